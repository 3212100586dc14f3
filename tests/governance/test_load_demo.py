from django.core.management import call_command

from governance.constants import Role
from governance.models import Membership
from plans.constants import OrganisationKind, PartStatus
from plans.models import Area, Part
from plans.services import area_save
from tests.factories import OrganisationFactory, member_make


def _load():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_load_demo_builds_the_five_areas_and_their_plans_and_is_idempotent(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _load()
    devon = Area.objects.get(slug="devon")
    assert devon.partners.filter(kind=OrganisationKind.CCG).count() == 2
    assert Area.objects.count() == 5
    statuses = set(Part.objects.values_list("status", flat=True))
    assert statuses == set(PartStatus.values)
    counts = (Membership.objects.count(), Part.objects.filter(version__gt=0).count())
    _load()
    assert (Membership.objects.count(), Part.objects.filter(version__gt=0).count()) == counts


def test_load_demo_leaves_an_area_changed_by_its_users_alone(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _load()
    plymouth = Area.objects.get(slug="plymouth")
    extra = OrganisationFactory(name="NHS Kernow CCG", kind=OrganisationKind.CCG)
    plymouth = area_save(
        area=plymouth,
        name="Plymouth",
        slug="plymouth",
        boundary_differences="Changed by the area",
        partners=[*plymouth.partners.all(), extra],
    )
    member_make(plymouth, Role.SIGNATORY, organisation=extra)
    _load()
    plymouth.refresh_from_db()
    assert plymouth.boundary_differences == "Changed by the area"
    assert extra in plymouth.partners.all()


def test_the_demo_has_a_plan_in_each_state_taken_there_by_the_moves_people_make(db, settings):
    """Rotherham drafting, Devon awaiting its second CCG's signature, Walsall signed by both
    partners, Southampton approved on its Board's date and Plymouth submitted; each sealed plan
    has a seal, its signatures and its decision log, and loading again moves nothing."""
    from governance.models import Decision
    from plans.constants import PlanState
    from plans.models import Plan

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _load()
    plans = {plan.area.slug: plan for plan in Plan.objects.select_related("area")}
    assert {slug: plan.state for slug, plan in plans.items()} == {
        "rotherham": PlanState.DRAFTING,
        "devon": PlanState.AWAITING_SIGNOFF,
        "walsall": PlanState.SIGNED,
        "southampton": PlanState.APPROVED,
        "plymouth": PlanState.SUBMITTED,
    }
    assert not plans["rotherham"].seals.exists()
    devon = plans["devon"].seals.get()
    assert sorted(devon.signatures.values_list("organisation__name", flat=True)) == [
        "Devon County Council",
        "NHS Northern, Eastern and Western Devon CCG",
    ]
    assert str(plans["southampton"].hwb_agreed_on) == "2014-01-29"
    # Dated as the area made each move, not as the demo was loaded: written, sealed, signed,
    # then approved on the Board's day.
    southampton = plans["southampton"].seals.get()
    assert str(southampton.created_at.date()) == "2014-01-20"
    signed = sorted(str(s.signed_at.date()) for s in southampton.signatures.all())
    assert signed == ["2014-01-22", "2014-01-23"]
    log = [(d.action, str(d.at.date())) for d in plans["southampton"].decisions.order_by("at")]
    assert log == [
        ("submitted_for_signoff", "2014-01-20"),
        ("signed_by_all", "2014-01-23"),
        ("approved", "2014-01-29"),
    ]
    assert all(
        part.updated_at <= southampton.created_at
        for part in plans["southampton"].parts.filter(version__gt=0)
    )
    assert plans["plymouth"].submitted_on is not None
    for slug in ("walsall", "southampton", "plymouth"):
        assert plans[slug].seals.get().signatures.count() == 2
    decisions = Decision.objects.count()
    _load()
    assert Decision.objects.count() == decisions
    assert {p.area.slug: p.state for p in Plan.objects.select_related("area")} == {
        slug: plan.state for slug, plan in plans.items()
    }


def test_the_demo_can_leave_every_plan_in_drafting(db, settings):
    from plans.constants import PlanState
    from plans.models import Plan

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", "--drafting", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(Plan.objects.values_list("state", flat=True)) == {PlanState.DRAFTING}
