import threading
from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from governance.constants import Action, Role
from governance.models import Decision, Signature
from governance.signoff import (
    StateConflict,
    plan_approve,
    plan_decline,
    plan_mark_submitted,
    plan_reopen,
    plan_submit_for_signoff,
    signature_add,
)
from plans.constants import PlanState
from plans.models import Plan
from plans.services import plan_current_round, plan_open
from tests.factories import PASSWORD, area_make, date_typed, member_make, plan_make_ready

REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.4")


def request():
    return RequestFactory().post("/", REMOTE_ADDR="10.0.0.1")


@pytest.fixture
def devon(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    area = area_make("Devon", ccg_count=2)
    plan = plan_open(area=area, round=plan_current_round())
    commissioner = member_make(area, Role.COMMISSIONER)
    plan_make_ready(plan, commissioner)
    admin = member_make(area, Role.AREA_ADMIN)
    chair = member_make(area, Role.HWB_CHAIR)
    plan_submit_for_signoff(plan=plan, user=commissioner)
    from governance.models import Membership

    signers = {
        m.partnership.organisation: m.user
        for m in Membership.objects.filter(partnership__area=area, role=Role.SIGNATORY)
    }
    return plan, signers, admin, chair


def sign(plan, organisation, user, password=PASSWORD):
    return signature_add(
        plan=plan,
        user=user,
        organisation=organisation,
        password=password,
        position="Accountable Officer",
        request=request(),
    )


def test_every_partner_signs_then_the_chair_approves_and_the_admin_submits(
    devon, django_capture_on_commit_callbacks, run_tasks
):
    plan, signers, admin, chair = devon
    organisations = list(signers)
    with django_capture_on_commit_callbacks(execute=True):
        for organisation in organisations[:-1]:
            sign(plan, organisation, signers[organisation])
            assert Plan.objects.get(pk=plan.pk).state == PlanState.AWAITING_SIGNOFF
        sign(plan, organisations[-1], signers[organisations[-1]])
    assert Plan.objects.get(pk=plan.pk).state == PlanState.SIGNED
    assert Decision.objects.filter(action=Action.SIGNED_BY_ALL).count() == 1
    run_tasks()
    assert "signed by every partner" in mail.outbox[-1].subject
    assert mail.outbox[-1].to == [chair.email]
    with pytest.raises(ValidationError, match="cannot be in the future"):
        plan_approve(
            plan=plan,
            user=chair,
            password=PASSWORD,
            agreed_on=date.today() + timedelta(days=1),
            request=request(),
        )
    plan_approve(
        plan=plan, user=chair, password=PASSWORD, agreed_on=date(2014, 1, 22), request=request()
    )
    plan.refresh_from_db()
    assert (plan.state, plan.hwb_agreed_on) == (PlanState.APPROVED, date(2014, 1, 22))
    plan_mark_submitted(plan=plan, user=admin, submitted_on=date(2014, 2, 14))
    plan.refresh_from_db()
    assert (plan.state, plan.submitted_on) == (PlanState.SUBMITTED, date(2014, 2, 14))
    with pytest.raises(StateConflict):
        plan_reopen(password=PASSWORD, request=REQUEST, plan=plan, user=admin, reason="too late")


def test_a_wrong_password_records_nothing_and_counts_towards_the_lockout(devon):
    plan, signers, _, _ = devon
    organisation, user = next(iter(signers.items()))
    with pytest.raises(ValidationError, match="The password is wrong"):
        sign(plan, organisation, user, password="not-it")
    assert not Signature.objects.exists()
    assert AccessAttempt.objects.filter(username=user.username).exists()


def test_signing_for_an_organisation_you_do_not_represent_is_refused(devon):
    plan, signers, _, _ = devon
    first, second = list(signers)[:2]
    with pytest.raises(PermissionDenied):
        sign(plan, second, signers[first])
    assert not Signature.objects.exists()


def test_a_second_signature_for_the_same_partner_is_refused(devon):
    plan, signers, _, _ = devon
    organisation, user = next(iter(signers.items()))
    sign(plan, organisation, user)
    with pytest.raises(ValidationError, match="has already signed this version"):
        sign(plan, organisation, user)
    assert Signature.objects.count() == 1


def test_a_decline_withdraws_every_signature_and_returns_the_plan_to_drafting(devon):
    plan, signers, _, _ = devon
    (first, first_user), (second, second_user) = list(signers.items())[:2]
    sign(plan, first, first_user)
    with pytest.raises(ValidationError):
        plan_decline(
            password=PASSWORD,
            request=REQUEST,
            plan=plan,
            user=second_user,
            organisation=second,
            reason="",
        )
    plan_decline(
        password=PASSWORD,
        request=REQUEST,
        plan=plan,
        user=second_user,
        organisation=second,
        reason="Figures not agreed",
    )
    plan.refresh_from_db()
    assert plan.state == PlanState.DRAFTING
    signature = Signature.objects.get()  # kept, never deleted
    assert signature.withdrawn_at is not None
    assert "Figures not agreed" in signature.withdrawn_reason
    assert (
        Decision.objects.filter(action=Action.DECLINED).get().reason.endswith("Figures not agreed")
    )


def test_reopen_withdraws_the_signatures_on_the_seal(devon):
    plan, signers, admin, _ = devon
    organisation, user = next(iter(signers.items()))
    sign(plan, organisation, user)
    plan_reopen(
        password=PASSWORD, request=REQUEST, plan=plan, user=admin, reason="New figures from the CCG"
    )
    assert Signature.objects.get().withdrawn_reason.startswith("Reopened for editing")


def test_the_sign_off_page_signs_and_the_verify_page_finds_the_seal(client, devon):
    plan, signers, _, _ = devon
    organisation, user = next(iter(signers.items()))
    client.force_login(user)
    url = reverse("signoff", kwargs={"slug": "devon", "round_slug": plan.round.slug})
    page = client.get(url).content.decode()
    assert f"Sign on behalf of {organisation.name}" in page
    sign_url = reverse(
        "sign",
        kwargs={"slug": "devon", "round_slug": plan.round.slug, "organisation_id": organisation.pk},
    )
    prefix = f"sign{organisation.pk}"
    read = {f"{prefix}-seal": plan.seals.get().digest, f"{prefix}-position": "AO"}
    assert f'value="{plan.seals.get().digest}"' in page  # the form carries what was read
    response = client.post(sign_url, {**read, f"{prefix}-password": "wrong"})
    assert response.status_code == 400
    assert "The password is wrong" in response.content.decode()
    response = client.post(sign_url, {**read, f"{prefix}-password": PASSWORD})
    assert response.status_code == 302
    assert Signature.objects.get().position == "AO"
    seal = plan.seals.get()
    page = client.get(reverse("verify"), {"seal": seal.digest.upper()}).content.decode()
    assert "Sealed version 1 of the Devon plan" in page
    assert organisation.name in page
    page = client.get(reverse("verify"), {"seal": "0" * 64}).content.decode()
    assert "No plan has this seal." in page


@pytest.mark.django_db(transaction=True)
def test_two_partners_signing_at_the_same_moment_both_count_and_the_state_moves_once(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    area = area_make("Devon", ccg_count=1)
    plan = plan_open(area=area, round=plan_current_round())
    commissioner = member_make(area, Role.COMMISSIONER)
    plan_make_ready(plan, commissioner)
    plan_submit_for_signoff(plan=plan, user=commissioner)
    from governance.models import Membership

    signers = [
        (m.partnership.organisation, m.user)
        for m in Membership.objects.filter(partnership__area=area, role=Role.SIGNATORY)
    ]
    barrier = threading.Barrier(len(signers))
    errors = []

    def run(organisation, user):
        try:
            barrier.wait()
            sign(plan, organisation, user)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert Signature.objects.filter(withdrawn_at__isnull=True).count() == len(signers)
    assert Decision.objects.filter(action=Action.SIGNED_BY_ALL).count() == 1
    assert Plan.objects.get(pk=plan.pk).state == PlanState.SIGNED


def test_the_dashboard_says_what_needs_each_persons_attention(
    client, devon, django_assert_max_num_queries
):
    plan, signers, admin, chair = devon
    organisation, user = next(iter(signers.items()))
    client.force_login(user)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("dashboard")).content.decode()
    assert f"Sign the Devon plan on behalf of {organisation.name}" in page
    sign(plan, organisation, user)
    assert "Sign the Devon plan" not in client.get(reverse("dashboard")).content.decode()
    for other, other_user in list(signers.items())[1:]:
        sign(plan, other, other_user)
    client.force_login(chair)
    assert "Approve the Devon plan" in client.get(reverse("dashboard")).content.decode()


def test_an_assigned_part_is_emailed_and_shown_overdue(
    client, world, django_capture_on_commit_callbacks, run_tasks
):
    plan = plan_open(area=world.area, round=plan_current_round())
    client.force_login(world.admin)
    url = reverse(
        "part_assign",
        kwargs={"slug": "southampton", "round_slug": plan.round.slug, "key": "vision"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url, {"assignee": world.commissioner.pk, **date_typed("due_date", "2014-01-10")}
        )
    run_tasks()
    assert mail.outbox[-1].to == [world.commissioner.email]
    assert "Vision for Health and Care Services" in mail.outbox[-1].subject
    assert "/areas/southampton/plans/itf-2014/parts/vision/" in mail.outbox[-1].body
    client.force_login(world.commissioner)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Vision for Health and Care Services (Southampton), due 10 January 2014" in page
    assert "Overdue" in page


MOVES = {
    "submit": ({PlanState.DRAFTING}, "commissioner"),
    "sign": ({PlanState.AWAITING_SIGNOFF}, "signatory"),
    "decline": ({PlanState.AWAITING_SIGNOFF}, "signatory"),
    "approve": ({PlanState.SIGNED}, "chair"),
    "mark_submitted": ({PlanState.APPROVED}, "admin"),
    "reopen": ({PlanState.AWAITING_SIGNOFF, PlanState.SIGNED, PlanState.APPROVED}, "admin"),
}


def _run(move, plan, user, organisation):
    today = date(2014, 2, 14)
    calls = {
        "submit": lambda: plan_submit_for_signoff(plan=plan, user=user),
        "sign": lambda: sign(plan, organisation, user),
        "decline": lambda: plan_decline(
            password=PASSWORD,
            request=REQUEST,
            plan=plan,
            user=user,
            organisation=organisation,
            reason="No",
        ),
        "approve": lambda: plan_approve(
            plan=plan, user=user, password=PASSWORD, agreed_on=today, request=request()
        ),
        "mark_submitted": lambda: plan_mark_submitted(plan=plan, user=user, submitted_on=today),
        "reopen": lambda: plan_reopen(
            password=PASSWORD, request=REQUEST, plan=plan, user=user, reason="Because"
        ),
    }
    return calls[move]()


@pytest.mark.parametrize("state", list(PlanState))
@pytest.mark.parametrize("move", list(MOVES))
def test_each_move_is_allowed_only_from_its_states_and_only_for_its_role(devon, state, move):
    plan, signers, admin, chair = devon
    organisation, signatory = next(iter(signers.items()))
    commissioner = plan.decisions.get().actor
    Plan.objects.filter(pk=plan.pk).update(state=state)
    plan.refresh_from_db()
    allowed, role = MOVES[move]
    user = {"commissioner": commissioner, "signatory": signatory, "chair": chair, "admin": admin}[
        role
    ]
    reviewer = member_make(plan.area, Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        _run(move, plan, reviewer, organisation)
    if state in allowed:
        _run(move, plan, user, organisation)
    else:
        decisions = Decision.objects.count()
        with pytest.raises(StateConflict):
            _run(move, plan, user, organisation)
        assert Decision.objects.count() == decisions
        assert Plan.objects.get(pk=plan.pk).state == state


@pytest.mark.django_db(transaction=True)
def test_a_decline_racing_a_signature_leaves_a_consistent_log(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    area = area_make("Devon", ccg_count=2)
    plan = plan_open(area=area, round=plan_current_round())
    commissioner = member_make(area, Role.COMMISSIONER)
    plan_make_ready(plan, commissioner)
    plan_submit_for_signoff(plan=plan, user=commissioner)
    from governance.models import Membership

    (a_org, a_user), (b_org, b_user) = [
        (m.partnership.organisation, m.user)
        for m in Membership.objects.filter(partnership__area=area, role=Role.SIGNATORY)
    ][:2]
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name, call):
        try:
            barrier.wait()
            call()
            outcomes[name] = "done"
        except StateConflict:
            outcomes[name] = "refused"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("sign", lambda: sign(plan, a_org, a_user))),
        threading.Thread(
            target=run,
            args=(
                "decline",
                lambda: plan_decline(
                    password=PASSWORD,
                    request=REQUEST,
                    plan=plan,
                    user=b_user,
                    organisation=b_org,
                    reason="No",
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes["decline"] == "done"
    assert outcomes["sign"] in {"done", "refused"}
    assert Plan.objects.get(pk=plan.pk).state == PlanState.DRAFTING
    assert not Signature.objects.filter(withdrawn_at__isnull=True).exists()
    assert list(Decision.objects.values_list("action", flat=True)) == [
        Action.SUBMITTED_FOR_SIGNOFF,
        Action.DECLINED,
    ]


def test_a_decline_is_in_the_authors_attention_until_the_plan_is_resubmitted(
    client, devon, django_capture_on_commit_callbacks, run_tasks
):
    plan, signers, admin, _ = devon
    organisation, user = next(iter(signers.items()))
    commissioner = plan.area.partnerships.first().memberships.filter(role=Role.COMMISSIONER)
    author = commissioner.first().user if commissioner.exists() else admin
    with django_capture_on_commit_callbacks(execute=True):
        plan_decline(
            password=PASSWORD,
            request=REQUEST,
            plan=plan,
            user=user,
            organisation=organisation,
            reason="Figures not agreed",
        )
    run_tasks()
    declined = mail.outbox[-1]
    assert "declined" in declined.subject
    assert "http://127.0.0.1:8000/areas/devon/plans/itf-2014/sign-off/" in declined.body
    for person in (author, admin):
        client.force_login(person)
        page = client.get(reverse("dashboard")).content.decode()
        assert "The Devon plan was declined" in page
        assert "Figures not agreed" in page
    client.force_login(user)  # the signatory who declined is not an author
    assert "The Devon plan was declined" not in client.get(reverse("dashboard")).content.decode()
    plan.refresh_from_db()
    plan_submit_for_signoff(plan=plan, user=author)
    client.force_login(admin)
    assert "The Devon plan was declined" not in client.get(reverse("dashboard")).content.decode()


def test_the_decision_log_lists_each_signature_and_its_withdrawal(client, devon):
    plan, signers, admin, _ = devon
    organisation, user = next(iter(signers.items()))
    sign(plan, organisation, user)
    plan_reopen(plan=plan, user=admin, reason="Late figures", password=PASSWORD, request=REQUEST)
    client.force_login(admin)
    timeline = client.get(reverse("task_list", args=["devon", "itf-2014"])).content.decode()
    signed = f"Signed on behalf of {organisation.name} by"
    withdrawn = f"for {organisation.name} withdrawn"
    assert signed in timeline and withdrawn in timeline
    assert timeline.index("Submitted for sign-off") < timeline.index(signed)
    assert timeline.index(signed) < timeline.index(withdrawn)


def test_an_email_subject_is_one_line_whatever_the_area_is_called(
    client, world, django_capture_on_commit_callbacks, run_tasks
):
    world.area.name = "Southampton\nBcc: everyone@example.org"
    world.area.save()
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("member_add", kwargs={"slug": "southampton"}),
            {
                "email": "pat@example.org",
                "first_name": "Pat",
                "last_name": "Jones",
                "organisation": world.area.partners.first().pk,
                "role": Role.COMMISSIONER,
            },
        )
    assert response.status_code == 302
    run_tasks()
    assert mail.outbox[-1].subject.endswith("Southampton Bcc: everyone@example.org")
    assert mail.outbox[-1].to == ["pat@example.org"]


def test_a_locked_account_cannot_sign_even_with_the_right_password(devon, client):
    from governance.lockout import ACCOUNT_FAILURE_LIMIT

    plan, signers, _, _ = devon
    organisation, signer = next(iter(signers.items()))
    # Guesses spread over many addresses at sign-in, never five from one: the account is locked,
    # and the signed-in session's password box must not take the guessing over.
    for attempt in range(ACCOUNT_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": signer.username, "password": "wrong-password"},
            REMOTE_ADDR=f"10.2.{attempt // 4}.1",
        )
    with pytest.raises(ValidationError, match="This account is locked for 15 minutes"):
        sign(plan, organisation, signer)
    assert not Signature.objects.exists()
