import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from governance.constants import Role
from governance.models import Membership
from governance.permissions import area_for_user, areas_for_user, has_area_perm
from governance.services import membership_add, membership_remove
from plans.constants import OrganisationKind
from tests.factories import OrganisationFactory, UserFactory, area_make, member_make


def test_a_shared_ccgs_signatory_for_plymouth_sees_nothing_of_devon(db):
    new_devon = OrganisationFactory(name="NHS NEW Devon CCG", kind=OrganisationKind.CCG)
    plymouth = area_make("Plymouth", ccgs=[new_devon])
    devon = area_make("Devon", ccgs=[new_devon])
    signatory = member_make(plymouth, Role.SIGNATORY, organisation=new_devon)
    assert list(areas_for_user(signatory)) == [plymouth]
    assert not has_area_perm(signatory, "view_area", devon)
    membership_add(area=devon, organisation=new_devon, user=signatory, role=Role.SIGNATORY)
    assert set(areas_for_user(signatory)) == {plymouth, devon}


def test_permissions_follow_memberships_as_they_change(world):
    user = UserFactory()
    assert not has_area_perm(user, "view_area", world.area)
    membership_add(
        area=world.area, organisation=world.area.partners.first(), user=user, role=Role.AREA_ADMIN
    )
    user = type(user).objects.get(pk=user.pk)  # permission caches are per instance
    assert has_area_perm(user, "manage_members", world.area)
    membership_add(
        area=world.area, organisation=world.area.partners.first(), user=user, role=Role.REVIEWER
    )
    membership_remove(membership=Membership.objects.get(user=user, role=Role.AREA_ADMIN))
    user = type(user).objects.get(pk=user.pk)
    assert has_area_perm(user, "view_area", world.area)
    assert not has_area_perm(user, "manage_members", world.area)
    membership_remove(membership=Membership.objects.get(user=user))
    user = type(user).objects.get(pk=user.pk)
    assert not has_area_perm(user, "view_area", world.area)


def test_a_national_admin_sees_every_area(world):
    assert set(areas_for_user(world.national)) == {world.area, world.other_area}
    assert area_for_user(world.national, "rotherham", "manage_members") == world.other_area


def test_an_organisation_outside_the_area_cannot_be_given_a_role(world):
    foreign = world.other_area.partners.first()
    with pytest.raises(ValidationError, match="is not a partner in Southampton"):
        membership_add(area=world.area, organisation=foreign, user=world.nobody, role=Role.REVIEWER)


def test_the_same_role_twice_is_refused_with_a_message(world):
    organisation = world.area.partners.order_by("-kind").first()
    with pytest.raises(ValidationError, match="already reviewer"):
        membership_add(
            area=world.area, organisation=organisation, user=world.reviewer, role=Role.REVIEWER
        )


def test_the_last_area_admin_cannot_be_removed(world):
    membership = Membership.objects.get(user=world.admin)
    with pytest.raises(ValidationError, match="only area admin"):
        membership_remove(membership=membership)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_area_admin_adds_a_new_person_who_is_emailed_a_link(
    client, world, django_capture_on_commit_callbacks, run_tasks
):
    client.force_login(world.admin)
    # The admin is the council's: it adds the council's signatory (a CCG's is its own admin's).
    ccg = world.area.partners.get(kind=OrganisationKind.LOCAL_AUTHORITY)
    assert not type(world.admin).objects.filter(email="pat@example.org").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("member_add", kwargs={"slug": "southampton"}),
            {
                "email": "Pat@Example.org",
                "first_name": "Pat",
                "last_name": "Jones",
                "organisation": ccg.pk,
                "role": Role.SIGNATORY,
            },
        )
    assert response.status_code == 302
    pat = type(world.admin).objects.get(email="pat@example.org")
    assert not pat.has_usable_password()
    assert Membership.objects.filter(
        user=pat, partnership__organisation=ccg, role=Role.SIGNATORY
    ).exists()
    run_tasks()
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
    assert mail.outbox[0].to == ["pat@example.org"]


def test_adding_an_existing_person_by_email_sends_no_email(client, world, run_tasks):
    client.force_login(world.admin)
    response = client.post(
        reverse("member_add", kwargs={"slug": "southampton"}),
        {
            "email": world.reviewer.email.upper(),
            "organisation": world.area.partners.get(kind="la").pk,  # the reviewer's own
            "role": Role.COMMISSIONER,
        },
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=world.reviewer, role=Role.COMMISSIONER).exists()
    run_tasks()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "data,message",
    [
        ({"email": "not-an-email", "role": Role.REVIEWER}, "Enter a valid email address."),
        ({"email": "new@example.org", "role": Role.REVIEWER}, "enter their first and last name"),
        (
            {"email": "new@example.org", "first_name": "A", "last_name": "B", "role": "emperor"},
            "Select a valid choice",
        ),
    ],
)
def test_bad_member_input_is_explained_and_changes_nothing(client, world, data, message):
    client.force_login(world.admin)
    before = Membership.objects.count()
    response = client.post(
        reverse("member_add", kwargs={"slug": "southampton"}),
        {"organisation": world.area.partners.first().pk, **data},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "There is a problem" in response.content.decode()
    assert Membership.objects.count() == before
    assert not type(world.admin).objects.filter(email="new@example.org").exists()


def test_removing_a_member_through_the_page(client, world):
    client.force_login(world.admin)
    membership = Membership.objects.get(user=world.commissioner)
    response = client.post(
        reverse("member_remove", kwargs={"slug": "southampton", "pk": membership.pk})
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert not has_area_perm(
        type(world.commissioner).objects.get(pk=world.commissioner.pk), "view_area", world.area
    )


def test_removing_the_last_admin_through_the_page_is_refused(client, world):
    client.force_login(world.admin)
    membership = Membership.objects.get(user=world.admin)
    response = client.post(
        reverse("member_remove", kwargs={"slug": "southampton", "pk": membership.pk})
    )
    assert response.status_code == 409
    assert "only area admin" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_area_page_query_count_does_not_grow_with_members(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.reviewer)
    url = reverse("area_detail", kwargs={"slug": "southampton"})
    with django_assert_max_num_queries(15):
        client.get(url)
    for _ in range(30):
        member_make(world.area, Role.REVIEWER)
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200


def test_the_dashboard_query_count_does_not_grow_with_areas(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.national)
    with django_assert_max_num_queries(25) as first:
        client.get(reverse("dashboard"))
    for i in range(20):
        area_make(f"Area{i}", ccg_count=2)
    with django_assert_max_num_queries(len(first)):
        response = client.get(reverse("dashboard"))
    assert len(re.findall(r'href="/areas/area\d+/"', response.content.decode())) == 20
