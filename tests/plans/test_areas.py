import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from governance.constants import Role
from plans.constants import OrganisationKind
from plans.models import Area, Organisation
from plans.services import area_save, organisation_save
from tests.factories import OrganisationFactory, area_make, member_make


@pytest.fixture
def council(db):
    return OrganisationFactory(name="Walsall Council")


@pytest.fixture
def ccg(db):
    return OrganisationFactory(name="NHS Walsall CCG", kind=OrganisationKind.CCG)


def test_an_area_needs_a_local_authority(ccg):
    with pytest.raises(ValidationError) as refusal:
        area_save(name="Walsall", slug="walsall", partners=[ccg])
    assert "exactly one" in str(refusal.value)
    assert not Area.objects.exists()


def test_an_area_refuses_two_local_authorities(council, ccg):
    other = OrganisationFactory(name="Dudley Council")
    with pytest.raises(ValidationError) as refusal:
        area_save(name="Walsall", slug="walsall", partners=[council, other, ccg])
    assert "Walsall Council and Dudley Council" in str(refusal.value)
    assert not Area.objects.exists()


def test_an_area_needs_at_least_one_ccg(council):
    with pytest.raises(ValidationError, match="at least one clinical commissioning group"):
        area_save(name="Walsall", slug="walsall", partners=[council])


def test_a_ccg_may_be_a_partner_in_two_areas(db):
    new_devon = OrganisationFactory(name="NHS NEW Devon CCG", kind=OrganisationKind.CCG)
    torbay = OrganisationFactory(name="NHS South Devon and Torbay CCG", kind=OrganisationKind.CCG)
    plymouth = area_make("Plymouth", ccgs=[new_devon])
    devon = area_make("Devon", ccgs=[new_devon, torbay])
    assert set(new_devon.areas.all()) == {plymouth, devon}
    assert devon.partners.filter(kind=OrganisationKind.CCG).count() == 2


@pytest.mark.parametrize(
    "name", ["Isle of\nWight", "Isle of\r\nWight", "Isle\tof Wight", "Isle\u2028of"]
)
def test_a_name_with_a_line_break_is_refused_beside_the_field(client, world, council, ccg, name):
    # Names go into email subjects, where a line break was a server error on adding a member.
    with pytest.raises(ValidationError, match="must be one line"):
        area_save(name=name, slug="wight", partners=[council, ccg])
    with pytest.raises(ValidationError, match="must be one line"):
        organisation_save(name=f"{name} Council", kind=OrganisationKind.LOCAL_AUTHORITY)
    client.force_login(world.national)
    response = client.post(
        reverse("area_create"),
        {"name": name, "local_authority": council.pk, "ccgs": [ccg.pk]},
    )
    assert response.status_code == 200
    assert "must be one line" in response.content.decode()
    assert not Area.objects.filter(slug="wight").exists()


def test_a_failed_change_leaves_the_area_as_it_was(db):
    area = area_make("Walsall")
    before = set(area.partners.all())
    with pytest.raises(ValidationError):
        area_save(area=area, name="Renamed", slug="walsall", partners=[])
    area.refresh_from_db()
    assert area.name == "Walsall"
    assert set(area.partners.all()) == before


def test_a_partner_with_members_cannot_be_removed(db):
    area = area_make("Walsall", ccg_count=2)
    ccg1, ccg2 = area.partners.filter(kind=OrganisationKind.CCG)
    member_make(area, Role.SIGNATORY, organisation=ccg2)
    council = area.partners.get(kind=OrganisationKind.LOCAL_AUTHORITY)
    with pytest.raises(ValidationError, match="still has members"):
        area_save(area=area, name="Walsall", slug="walsall", partners=[council, ccg1])
    assert area.partners.count() == 3


def test_an_organisations_kind_is_fixed_once_it_is_a_partner(db):
    area = area_make("Walsall")
    council = area.partners.get(kind=OrganisationKind.LOCAL_AUTHORITY)
    with pytest.raises(ValidationError, match="kind is fixed"):
        organisation_save(organisation=council, name=council.name, kind=OrganisationKind.CCG)


def test_organisation_names_are_unique_whatever_their_case(db):
    organisation_save(name="Walsall Council", kind=OrganisationKind.LOCAL_AUTHORITY)
    with pytest.raises(ValidationError, match="already exists"):
        organisation_save(name="walsall council", kind=OrganisationKind.LOCAL_AUTHORITY)
    assert Organisation.objects.count() == 1


def test_the_area_form_shows_the_rule_and_saves_nothing(client, world):
    client.force_login(world.national)
    council = world.area.partners.get(kind=OrganisationKind.LOCAL_AUTHORITY)
    response = client.post(
        reverse("area_create"), {"name": "Nowhere", "local_authority": council.pk, "ccgs": []}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Choose at least one clinical commissioning group." in page
    assert not Area.objects.filter(name="Nowhere").exists()


def test_a_hostile_post_cannot_make_a_council_a_ccg(client, world):
    client.force_login(world.national)
    council = world.area.partners.get(kind=OrganisationKind.LOCAL_AUTHORITY)
    other_council = world.other_area.partners.get(kind=OrganisationKind.LOCAL_AUTHORITY)
    response = client.post(
        reverse("area_create"),
        {"name": "Twin", "local_authority": council.pk, "ccgs": [other_council.pk]},
    )
    assert response.status_code == 200
    assert not Area.objects.filter(name="Twin").exists()


def test_a_national_admin_creates_an_area_with_two_ccgs(client, world):
    client.force_login(world.national)
    council = OrganisationFactory(name="Devon County Council")
    ccgs = [OrganisationFactory(name=f"CCG {i}", kind=OrganisationKind.CCG) for i in range(2)]
    response = client.post(
        reverse("area_create"),
        {"name": "Devon", "local_authority": council.pk, "ccgs": [c.pk for c in ccgs]},
    )
    assert response.status_code == 302
    area = Area.objects.get(slug="devon")
    assert area.partners.count() == 3
    assert response.url == reverse("area_detail", kwargs={"slug": "devon"})


def test_text_is_escaped_on_the_area_page(client, world):
    client.force_login(world.national)
    council = world.area.partners.get(kind=OrganisationKind.LOCAL_AUTHORITY)
    ccg = world.area.partners.get(kind=OrganisationKind.CCG)
    area_save(
        area=world.area,
        name="Southampton",
        slug="southampton",
        boundary_differences="<script>alert(1)</script>",
        partners=[council, ccg],
    )
    page = client.get(reverse("area_detail", kwargs={"slug": "southampton"})).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
