import pytest

from accounts import services
from accounts.tables import Membership
from core.errors import NotAllowed

Role = Membership.Role


async def test_an_actor_acts_only_for_its_own_organisations(create_user, create_org):
    school = await create_org(slug="school-a")
    other = await create_org(slug="school-b")
    teacher = await services.load_actor(await create_user("teacher", org=school))
    assert teacher.acts_for(school.id, Role.teacher)
    assert not teacher.acts_for(other.id, Role.teacher)
    assert not teacher.acts_for(school.id, Role.school_admin)  # the role matters, not only the place
    with pytest.raises(NotAllowed) as refused:
        teacher.require(teacher.acts_for(other.id, Role.teacher, Role.school_admin))
    assert str(refused.value) == "Je mag dit niet doen."
    admin = await services.load_actor(await create_user("platform_admin"))
    assert admin.acts_for(other.id, Role.school_admin)
    assert admin.primary_role == Role.platform_admin


async def test_every_change_to_an_account_is_in_the_audit_log(create_user, uow_for):
    from core.tables import AuditEntry

    user = await create_user("teacher", email="t@school.be")
    await services.create_api_token(uow_for(await services.load_actor(user)), "rooster")
    await services.revoke_api_tokens(uow_for(), user)
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions == ["user.created", "api_token.created", "api_token.revoked"]


async def test_a_failed_user_creation_leaves_nothing_behind(create_org, db, uow_for):
    from accounts.tables import User

    school = await create_org(slug="school-a")

    class Boom(Exception):
        pass

    original = Membership.insert

    def failing_insert(*args, **kwargs):
        raise Boom()

    Membership.insert = failing_insert
    try:
        with pytest.raises(Boom):
            await services.create_user(uow_for(), "t@school.be", "correct horse battery", "teacher", school.slug)
    finally:
        Membership.insert = original
    assert await User.count() == 0
