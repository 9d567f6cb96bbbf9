"""The needs plugin: the needs pages and API, the mail to a school when its need is answered,
and the labels its templates use."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from accounts import owner_invitations
from core.registry import Werkbank
from needs import notifications, phaseout, report, services
from needs.api import NeedApiController
from needs.controllers import NeedPagesController
from needs.invitation_controllers import OwnerInvitationsController
from needs.phaseout_controllers import PhaseOutPagesController
from needs.tables import Need, NeedOffer, PhaseOut, PhaseOutResponse


class NeedsPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app = self.app
        app_config.route_handlers.extend([NeedPagesController, PhaseOutPagesController, OwnerInvitationsController,
                                          NeedApiController])
        app.admin_tables.extend([Need, NeedOffer, PhaseOut, PhaseOutResponse])
        app.templates.globals.update(may_invite_owners=owner_invitations.may_invite_owners,
                                     need_reason_label=services.reason_label, need_status_label=services.need_status_label,
                                     may_see_needs=services.may_see_needs,
                                     phase_out_status_label=phaseout.phase_out_status_label)
        app.hooks.add("home.panels", report.home_panels)
        app.hooks.add("report.sections", report.report_sections)  # reports calls it once it shows sections
        notifications.subscribe(app)
        app.mail_contexts[notifications.LOADER] = notifications.load_mail_context
        return app_config
