"""Mails about needs, one template each, in the recipient's language: an owner's offer goes to
the teacher who recorded the need and to the school's admins; a phase-out signal to the region's
RTC staff, the owners concerned and the network's provider staff. Queued inside the change's
transaction (subscribers to NeedAnswered and PhaseOutSignalled); rendered after commit with
`load_mail_context`."""

from __future__ import annotations

from core.i18n import lazy_gettext as _l
from core.mail import Mail, queue
from core.uow import UnitOfWork
from needs import phaseout, services
from needs.tables import Need, NeedOffer, PhaseOut

LOADER = "needs"


async def on_answered(uow: UnitOfWork, event: services.NeedAnswered) -> None:
    people = await services.school_recipients(event.school_id, event.recorded_by)
    await queue(uow, [Mail(p["email"], _l("An offer for your school's need"), "needs/mail/offer.txt",
                           p["language"] or "nl", {"offer_id": event.offer_id}, loader=LOADER) for p in people])


async def on_phase_out_signalled(uow: UnitOfWork, event: phaseout.PhaseOutSignalled) -> None:
    row = await PhaseOut.objects().where(PhaseOut.id == event.phase_out_id).first()
    people = await phaseout.recipients(row)
    await queue(uow, [Mail(p["email"], _l("A school phases out a study programme"), "needs/mail/phase_out.txt",
                           p["language"] or "nl", {"phase_out_id": event.phase_out_id}, loader=LOADER) for p in people])


def subscribe(app) -> None:
    app.subscribe(services.NeedAnswered, on_answered)
    app.subscribe(phaseout.PhaseOutSignalled, on_phase_out_signalled)


async def load_mail_context(uow: UnitOfWork, data: dict) -> dict:
    """What the needs mail templates show, read when the outbox renders them."""
    from inventory.tables import Category

    if "phase_out_id" in data:
        return await _phase_out_context(uow, data["phase_out_id"])

    offers = await NeedOffer.select(*services.OFFER_COLUMNS).where(NeedOffer.id == data["offer_id"])
    if not offers:
        raise LookupError(f"offer {data['offer_id']} is gone")
    offer = offers[0]
    need = await Need.objects().where(Need.id == offer["need"]).first()
    category = await Category.objects().where(Category.id == need.category).first()
    base = uow.settings.base_url
    return {
        "offer": offer, "need": need, "category": category,
        "link": f"{base}/needs/{need.id}",
        "resource_link": f"{base}/resources/{offer['resource']}" if offer["resource"] else "",
    }


async def _phase_out_context(uow: UnitOfWork, phase_out_id: int) -> dict:
    from accounts.tables import Organisation
    from inventory.tables import StudyProgramme

    row = await PhaseOut.objects().where(PhaseOut.id == phase_out_id).first()
    if row is None:
        raise LookupError(f"phase-out {phase_out_id} is gone")
    school = await Organisation.objects().where(Organisation.id == row.school).first()
    programme = await StudyProgramme.objects().where(StudyProgramme.id == row.study_programme).first()
    return {"phase_out": row, "school": school, "programme": programme,
            "link": f"{uow.settings.base_url}/needs/phase-outs/{row.id}"}
