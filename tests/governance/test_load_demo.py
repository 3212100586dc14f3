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
