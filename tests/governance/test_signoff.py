import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse

from finance.services import part_save, plan_snapshot_now
from governance.constants import Action
from governance.models import Decision, Seal
from governance.signoff import (
    StateConflict,
    plan_reopen,
    plan_submit_for_signoff,
    readiness_checks,
)
from plans.constants import NATIONAL_METRICS, PlanState
from plans.models import Plan
from plans.services import plan_current_round, plan_open
from plans.snapshot import seal_digest
from tests.factories import PASSWORD, part_post_data, plan_make_ready

REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.4")


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


@pytest.fixture
def ready(world, plan):
    return plan_make_ready(plan, world.commissioner)


def plan_url(name, **extra):
    return reverse(name, kwargs={"slug": "southampton", "round_slug": "itf-2014", **extra})


def test_a_parts_own_rules_come_from_its_description_and_link_to_it(world, ready):
    """The checklist asks what the metrics part's form asks before it is complete: a national
    measure without its baseline's date fails, and the check points at the part to fix."""
    part = ready.parts.get(key="metrics")
    content = {**part.content, "rows": [dict(row) for row in part.content["rows"]]}
    content["rows"][2]["baseline_date"] = ""
    part_save(
        part=part, content=content, status="in_progress", base_version=part.version, user=None
    )
    checks = {check.name: check for check in readiness_checks(ready)}
    metric = checks["Every national metric has a baseline, its date and projections"]
    assert not metric.passed and metric.part == "metrics"
    assert NATIONAL_METRICS[2] in metric.message
    assert checks["A date is given if the NHS Number is not yet the primary identifier"].passed


def test_an_empty_plan_fails_its_checks_and_cannot_be_submitted(client, world, plan):
    checks = {check.name: check for check in readiness_checks(plan)}
    assert not checks["Vision for Health and Care Services is complete"].passed
    assert not checks["The minimum pooled budget is set for every year"].passed
    assert not checks["Every national metric has a baseline, its date and projections"].passed
    council = world.area.partners.get(kind="la")
    assert not checks[f"{council.name} has a signatory"].passed
    client.force_login(world.commissioner)
    response = client.post(plan_url("readiness"))
    assert response.status_code == 400
    assert "cannot be submitted yet" in response.content.decode()
    assert not Seal.objects.exists()
    assert Plan.objects.get(pk=plan.pk).state == PlanState.DRAFTING


def test_the_checklist_links_each_person_to_what_they_can_fix_or_says_who_can(client, world, plan):
    from tests.factories import member_make

    finance = member_make(world.area, "finance_lead", username="finance")
    vision = plan_url("part", key="vision")
    contributions = plan_url("part", key="contributions")
    client.force_login(world.commissioner)
    page = client.get(plan_url("readiness")).content.decode()
    assert f'<a href="{vision}">Go to the part to fix it' in page
    assert "Only a finance lead or the area admin can change this" in page
    assert f'<a href="{contributions}">read the part' in page
    # The minimum is set by a national admin: no link to a part of the plan.
    assert "a national admin sets it on the Allocations page" in page
    client.force_login(finance)
    page = client.get(plan_url("readiness")).content.decode()
    assert f'<a href="{contributions}">Go to the part to fix it' in page
    assert "Only a commissioner of this area can change this" in page


def test_a_ready_plan_is_sealed_frozen_and_logged(
    client, world, ready, django_capture_on_commit_callbacks, run_tasks
):
    assert all(check.passed for check in readiness_checks(ready))
    client.force_login(world.commissioner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(plan_url("readiness"))
    assert response.status_code == 302
    plan = Plan.objects.get(pk=ready.pk)
    assert plan.state == PlanState.AWAITING_SIGNOFF
    seal = Seal.objects.get()
    assert seal.digest == seal_digest(plan_snapshot_now(plan, 1))
    decision = Decision.objects.get()
    assert (decision.action, decision.from_state, decision.to_state, decision.actor) == (
        Action.SUBMITTED_FOR_SIGNOFF,
        PlanState.DRAFTING,
        PlanState.AWAITING_SIGNOFF,
        world.commissioner,
    )
    run_tasks()
    assert len(mail.outbox) == 1 and len(mail.outbox[0].to) == 2  # both signatories
    # Frozen: an edit is refused with a message, nothing changes.
    vision = plan.parts.get(key="vision")
    response = client.post(
        reverse("part", kwargs={"slug": "southampton", "round_slug": "itf-2014", "key": "vision"}),
        part_post_data(plan, "vision", {"text": "A late change"}, status="complete"),
    )
    assert response.status_code == 409
    assert plan.parts.get(key="vision").version == vision.version
    # Submitting again is a clear conflict, not a silent no-op.
    assert client.post(plan_url("readiness")).status_code == 409


def test_the_seal_is_stable_and_changes_with_any_part_or_figure(world, ready):
    before = seal_digest(plan_snapshot_now(ready, 1))
    assert seal_digest(plan_snapshot_now(ready, 1)) == before
    part = ready.parts.get(key="contributions")
    content = dict(part.content)
    content["amounts"] = [{**content["amounts"][0], "amount": "1000.01"}, *content["amounts"][1:]]
    part_save(part=part, content=content, status="complete", base_version=part.version, user=None)
    assert seal_digest(plan_snapshot_now(ready, 1)) != before


def test_reopen_needs_a_reason_and_returns_the_plan_to_drafting(
    client, world, ready, django_capture_on_commit_callbacks, run_tasks
):
    plan_submit_for_signoff(plan=ready, user=world.commissioner)
    client.force_login(world.commissioner)
    assert client.post(plan_url("reopen"), {"reason": "x"}).status_code == 403
    client.force_login(world.admin)
    response = client.post(plan_url("reopen"), {"reason": ""})
    assert "Say why the plan is being reopened." in response.content.decode()
    assert Plan.objects.get(pk=ready.pk).state == PlanState.AWAITING_SIGNOFF
    # Every signature is withdrawn, so it takes the admin's password, as a signature does.
    reason = "The CCG board asked for changes"
    response = client.post(plan_url("reopen"), {"reason": reason, "password": "wrong"})
    assert "The password is wrong" in response.content.decode()
    assert Plan.objects.get(pk=ready.pk).state == PlanState.AWAITING_SIGNOFF
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(plan_url("reopen"), {"reason": reason, "password": PASSWORD})
    assert response.status_code == 302
    plan = Plan.objects.get(pk=ready.pk)
    assert plan.state == PlanState.DRAFTING
    assert plan.decisions.last().reason == "The CCG board asked for changes"
    run_tasks()
    assert "reopened for editing" in mail.outbox[-1].subject
    again = {"reason": "again", "password": PASSWORD}
    assert client.post(plan_url("reopen"), again).status_code == 409


def test_the_sealed_version_shows_what_was_sealed_after_the_plan_changes(client, world, ready):
    plan_submit_for_signoff(plan=ready, user=world.commissioner)
    plan_reopen(
        password=PASSWORD, request=REQUEST, plan=ready, user=world.admin, reason="More work"
    )
    vision = ready.parts.get(key="vision")
    part_save(
        part=vision,
        content={"text": "Changed afterwards"},
        status="complete",
        base_version=vision.version,
        user=world.commissioner,
    )
    client.force_login(world.reviewer)
    page = client.get(plan_url("sealed_version", number=1)).content.decode()
    assert "Our answer." in page
    assert "Changed afterwards" not in page
    assert Seal.objects.get().digest in page
    timeline = client.get(plan_url("task_list")).content.decode()
    assert "Submitted for sign-off by" in timeline and "Reopened for editing by" in timeline


def test_moves_check_permission_and_state(world, ready):
    with pytest.raises(PermissionDenied):
        plan_submit_for_signoff(plan=ready, user=world.reviewer)
    with pytest.raises(StateConflict):
        plan_reopen(
            password=PASSWORD,
            request=REQUEST,
            plan=ready,
            user=world.admin,
            reason="nothing to reopen",
        )
    with pytest.raises(ValidationError):
        plan_submit_for_signoff(
            plan=plan_open(area=world.other_area, round=ready.round), user=world.outsider
        )


def test_two_sealed_versions_can_be_compared(client, world, ready):
    plan_submit_for_signoff(plan=ready, user=world.commissioner)
    plan_reopen(
        password=PASSWORD, request=REQUEST, plan=ready, user=world.admin, reason="Sharper vision"
    )
    vision = ready.parts.get(key="vision")
    part_save(
        part=vision,
        content={"text": "Our sharper answer."},
        status="complete",
        base_version=vision.version,
        user=world.commissioner,
    )
    plan_submit_for_signoff(plan=ready, user=world.commissioner)
    client.force_login(world.reviewer)
    page = client.get(plan_url("sealed_compare", number=1, other=2)).content.decode()
    assert "Vision for Health and Care Services" in page
    assert "<ins>sharper " in page
    assert "Governance" not in page.split("<h1>")[1]  # unchanged parts are not listed
    assert "what changed since version 1" in client.get(plan_url("task_list")).content.decode()
