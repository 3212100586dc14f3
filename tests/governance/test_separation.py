"""Separation of duties: nobody gives themselves a role, an admin cannot add a signatory for
another partner, one person signs for one partner and never approves what they signed, and
"signed by every partner" means every partner the version was sealed with."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from finance.services import part_save
from governance.constants import Role
from governance.models import Membership
from governance.permissions import permissions_sync
from governance.services import membership_add, membership_remove
from governance.signoff import plan_approve, plan_submit_for_signoff, signature_add
from plans.constants import PlanState
from plans.models import Partnership, Plan
from plans.services import area_save, plan_current_round, plan_open
from tests.factories import PASSWORD, OrganisationFactory, member_make, plan_make_ready

REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.3")


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


def add(client, user, area, organisation, role, email):
    client.force_login(user)
    return client.post(
        reverse("member_add", kwargs={"slug": area.slug}),
        {
            "email": email,
            "first_name": "Someone",
            "last_name": "New",
            "organisation": organisation.pk,
            "role": role,
        },
    )


@pytest.mark.parametrize("role", [Role.SIGNATORY, Role.HWB_CHAIR, Role.AREA_ADMIN])
def test_nobody_gives_themselves_a_role(client, world, role):
    world.admin.email = "admin@example.org"
    world.admin.save()
    council = world.area.partners.get(kind="la")
    response = add(client, world.admin, world.area, council, role, "admin@example.org")
    assert response.status_code == 200
    assert "You cannot give yourself a role" in response.content.decode()
    assert (
        not Membership.objects.filter(user=world.admin, role=role)
        .exclude(role=Role.AREA_ADMIN)
        .exists()
    )
    world.national.email = "national@example.org"
    world.national.save()
    response = add(client, world.national, world.area, council, role, "national@example.org")
    assert "You cannot give yourself a role" in response.content.decode()
    assert not Membership.objects.filter(user=world.national).exists()


def test_a_signatory_is_added_only_by_its_own_organisations_admin_or_a_national_admin(
    client, world
):
    ccg = world.area.partners.get(kind="ccg")
    response = add(client, world.admin, world.area, ccg, Role.SIGNATORY, "ccg.chief@example.org")
    assert f"Only an area admin from {ccg.name}, or a national admin" in response.content.decode()
    assert not Membership.objects.filter(role=Role.SIGNATORY).exists()
    # The council's admin may add the council's own signatory …
    council = world.area.partners.get(kind="la")
    response = add(client, world.admin, world.area, council, Role.SIGNATORY, "la@example.org")
    assert response.status_code == 302
    # … the CCG's own admin the CCG's, and a national admin anyone's.
    ccg_admin = member_make(world.area, Role.AREA_ADMIN, organisation=ccg, username="ccgadmin")
    assert (
        add(client, ccg_admin, world.area, ccg, Role.SIGNATORY, "a@example.org").status_code == 302
    )
    assert (
        add(client, world.national, world.area, ccg, Role.SIGNATORY, "b@example.org").status_code
        == 302
    )
    assert Membership.objects.filter(role=Role.SIGNATORY).count() == 3


def test_no_admin_makes_another_partners_admin_or_the_boards_chair_to_act_through(client, world):
    # The way round the signatory rule the audit found: the council's admin makes a fresh account
    # the CCG's area admin, who then adds the CCG's signatory; and makes a puppet the chair.
    ccg = world.area.partners.get(kind="ccg")
    council = world.area.partners.get(kind="la")
    page = add(client, world.admin, world.area, ccg, Role.AREA_ADMIN, "puppet1@example.org")
    assert page.status_code == 200
    assert (
        f"Only an area admin from {ccg.name}, or a national admin, can add an area admin"
        in page.content.decode()
    )
    page = add(client, world.admin, world.area, council, Role.HWB_CHAIR, "puppet3@example.org")
    assert page.status_code == 200
    assert "Only a national admin can add the Health and Wellbeing Board chair" in (
        page.content.decode()
    )
    assert not Membership.objects.filter(user__email__startswith="puppet").exists()
    # The council's admin still adds the council's own admins; a national admin adds the rest.
    assert (
        add(client, world.admin, world.area, council, Role.AREA_ADMIN, "c@example.org").status_code
        == 302
    )
    for role, email in [(Role.AREA_ADMIN, "d@example.org"), (Role.HWB_CHAIR, "e@example.org")]:
        assert add(client, world.national, world.area, ccg, role, email).status_code == 302
    made = Membership.objects.filter(user__email__in=["c@example.org", "d@example.org"])
    assert made.count() == 2


def _sealed(world, plan):
    ready = plan_make_ready(plan, world.commissioner)
    plan_submit_for_signoff(plan=ready, user=world.admin)
    return Plan.objects.get(pk=plan.pk)


def test_one_person_signs_for_one_partner_and_never_approves_what_they_signed(world, plan):
    plan = _sealed(world, plan)
    council, ccg = plan.partner_organisations[:2]
    both = member_make(world.area, Role.SIGNATORY, organisation=council, username="both")
    member_make(world.area, Role.HWB_CHAIR, organisation=council, user=both)
    # membership_add refuses a second organisation's role; rows written round it (an old
    # record, a script) still meet the guards of signing itself.
    partnership = world.area.partnerships.get(organisation=ccg)
    Membership.objects.create(user=both, partnership=partnership, role=Role.SIGNATORY)
    permissions_sync(user=both, area=world.area)
    signature_add(
        plan=plan,
        user=both,
        organisation=council,
        password=PASSWORD,
        request=REQUEST,
        position="CEO",
    )
    with pytest.raises(ValidationError, match="One person signs for one partner"):
        signature_add(
            plan=plan,
            user=both,
            organisation=ccg,
            password=PASSWORD,
            request=REQUEST,
            position="CEO",
        )
    ccg_signatory = (
        Membership.objects.filter(role=Role.SIGNATORY, partnership__organisation=ccg)
        .exclude(user=both)
        .first()
        .user
    )
    signature_add(
        plan=plan,
        user=ccg_signatory,
        organisation=ccg,
        password=PASSWORD,
        request=REQUEST,
        position="Chief",
    )
    assert Plan.objects.get(pk=plan.pk).state == PlanState.SIGNED
    with pytest.raises(ValidationError, match="you cannot also approve it"):
        plan_approve(
            plan=plan, user=both, password=PASSWORD, request=REQUEST, agreed_on=date(2014, 3, 1)
        )
    assert Plan.objects.get(pk=plan.pk).state == PlanState.SIGNED


def test_a_person_holds_roles_for_their_own_organisation_only(client, world):
    council = world.area.partners.get(kind="la")
    ccg = world.area.partners.get(kind="ccg")
    ccg_admin = member_make(world.area, Role.AREA_ADMIN, organisation=ccg, username="ccgadmin")
    # The council's reviewer cannot be made the CCG's signatory, even by the CCG's own admin …
    world.reviewer.email = "reviewer@example.org"
    world.reviewer.save()
    response = add(client, ccg_admin, world.area, ccg, Role.SIGNATORY, "reviewer@example.org")
    assert response.status_code == 200
    assert f"has roles for {council.name}" in response.content.decode()
    assert not Membership.objects.filter(user=world.reviewer, role=Role.SIGNATORY).exists()
    # … nor given any role for the CCG in another area.
    with pytest.raises(ValidationError, match="their own organisation only"):
        membership_add(
            area=world.other_area,
            organisation=world.other_area.partners.get(kind="ccg"),
            user=world.reviewer,
            role=Role.REVIEWER,
        )
    # A second role for their own organisation is fine.
    response = add(
        client, world.admin, world.area, council, Role.COMMISSIONER, "reviewer@example.org"
    )
    assert response.status_code == 302


def test_signed_by_every_partner_counts_the_partners_it_was_sealed_with(world, plan):
    plan = _sealed(world, plan)
    council, ccg = plan.partner_organisations[:2]
    signatories = {
        m.partnership.organisation_id: m.user
        for m in Membership.objects.filter(role=Role.SIGNATORY).select_related("partnership")
    }
    signature_add(
        plan=plan,
        user=signatories[council.pk],
        organisation=council,
        password=PASSWORD,
        request=REQUEST,
        position="CEO",
    )
    # While the plan awaits sign-off its partners and signatories stay as they were sealed.
    newcomer = OrganisationFactory(name="NHS New CCG", kind="ccg")
    ccg_signatory = Membership.objects.get(role=Role.SIGNATORY, partnership__organisation=ccg)
    with pytest.raises(ValidationError, match="signatories and Health and Wellbeing Board chair"):
        membership_remove(membership=ccg_signatory)
    with pytest.raises(ValidationError, match="reopen it before changing them"):
        area_save(
            area=world.area,
            name=world.area.name,
            slug=world.area.slug,
            partners=[council, newcomer],
        )
    # Even if the rows were changed behind the portal's back (the shell), the sealed CCG's
    # signature is still needed, and the newcomer does not sign this version.
    Membership.objects.filter(partnership__organisation=ccg).delete()
    Partnership.objects.filter(area=world.area, organisation=ccg).delete()
    Partnership.objects.create(area=world.area, organisation=newcomer)
    assert Plan.objects.get(pk=plan.pk).state == PlanState.AWAITING_SIGNOFF
    signer = member_make(world.area, Role.SIGNATORY, organisation=newcomer, username="newbie")
    with pytest.raises(ValidationError, match="was not a partner when this version was sealed"):
        signature_add(
            plan=plan,
            user=signer,
            organisation=newcomer,
            password=PASSWORD,
            request=REQUEST,
            position="CEO",
        )
    assert Plan.objects.get(pk=plan.pk).state == PlanState.AWAITING_SIGNOFF


def test_a_signature_is_refused_on_a_version_other_than_the_one_read(client, world, plan):
    from governance.models import Signature
    from governance.signoff import plan_reopen

    plan = _sealed(world, plan)
    council = plan.partner_organisations[0]
    signer = Membership.objects.get(role=Role.SIGNATORY, partnership__organisation=council).user
    client.force_login(signer)
    url = reverse("signoff", kwargs={"slug": "southampton", "round_slug": "itf-2014"})
    read = plan.seals.get().digest
    assert f'value="{read}"' in client.get(url).content.decode()
    # Meanwhile the plan is reopened, the vision changed and the plan sealed again.
    plan_reopen(
        password=PASSWORD, request=REQUEST, plan=plan, user=world.admin, reason="Sharper vision"
    )
    vision = plan.parts.get(key="vision")
    part_save(
        part=vision,
        content={"text": "A new vision"},
        status="complete",
        base_version=vision.version,
        user=world.commissioner,
    )
    plan_submit_for_signoff(plan=Plan.objects.get(pk=plan.pk), user=world.admin)
    prefix = f"sign{council.pk}"
    response = client.post(
        reverse(
            "sign",
            kwargs={"slug": "southampton", "round_slug": "itf-2014", "organisation_id": council.pk},
        ),
        {f"{prefix}-seal": read, f"{prefix}-password": PASSWORD, f"{prefix}-position": "CEO"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "You read sealed version 1" in text and "sealed again as version 2" in text
    assert "Vision for Health and Care Services" in text
    assert not Signature.objects.exists()


def test_declining_takes_the_signatorys_password_and_a_wrong_one_changes_nothing(world, plan):
    from governance.signoff import plan_decline

    plan = _sealed(world, plan)
    council = plan.partner_organisations[0]
    signer = Membership.objects.get(role=Role.SIGNATORY, partnership__organisation=council).user
    with pytest.raises(ValidationError, match="The password is wrong"):
        plan_decline(
            plan=plan,
            user=signer,
            organisation=council,
            reason="No",
            password="wrong",
            request=REQUEST,
        )
    assert Plan.objects.get(pk=plan.pk).state == PlanState.AWAITING_SIGNOFF
    plan_decline(
        plan=plan,
        user=signer,
        organisation=council,
        reason="No",
        password=PASSWORD,
        request=REQUEST,
    )
    assert Plan.objects.get(pk=plan.pk).state == PlanState.DRAFTING
