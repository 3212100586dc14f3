import pytest
from django.urls import reverse

from governance.models import Milestone
from plans.services import plan_current_round, plan_open
from tests.factories import date_typed


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


URL = "/areas/southampton/plans/itf-2014/milestones/"


def test_the_area_admin_sets_milestones_and_overdue_ones_are_flagged(client, world, plan):
    client.force_login(world.admin)
    response = client.post(
        URL,
        {
            **date_typed("first_draft_due", "2013-11-13"),
            **date_typed("first_draft_done", "2013-11-13"),
            **date_typed("submission_deadline_due", "2014-02-14"),
        },
    )
    assert response.status_code == 302
    deadline = Milestone.objects.get(plan=plan, kind="submission_deadline")
    assert str(deadline.due_on) == "2014-02-14" and deadline.done_on is None
    page = client.get(reverse("dashboard")).content.decode()
    assert "Overdue" in page and "1 milestone" in page
    assert "1 milestone</a></td>" in page  # only what is overdue is counted, no "0 parts"
    client.force_login(world.reviewer)
    page = client.get(URL).content.decode()
    assert "14 February 2014" in page and "Overdue" in page


@pytest.mark.parametrize(
    "data,message",
    [
        (
            date_typed("hwb_meeting_due", "2014-13-45"),
            "Health and Wellbeing Board meeting: date must be a real date",
        ),
        (date_typed("hwb_meeting_done", "2999-01-01"), "the date done cannot be in the future"),
    ],
)
def test_bad_milestone_dates_are_explained_and_nothing_is_saved(client, world, plan, data, message):
    client.force_login(world.admin)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Milestone.objects.exists()


def test_only_the_area_admin_sets_milestones(client, world, plan):
    client.force_login(world.commissioner)
    assert client.post(URL, date_typed("hwb_meeting_due", "2014-01-22")).status_code == 403
    client.force_login(world.outsider)
    assert client.get(URL).status_code == 404
    assert not Milestone.objects.exists()


@pytest.mark.parametrize(
    "state,overdue",
    [
        ("drafting", {"first_draft", "hwb_meeting", "submission_deadline"}),
        ("awaiting_signoff", {"hwb_meeting", "submission_deadline"}),
        ("approved", {"submission_deadline"}),
        ("submitted", set()),
    ],
)
def test_a_milestone_stops_being_overdue_once_the_plan_has_moved_past_it(
    client, world, plan, state, overdue
):
    from datetime import date

    from governance.milestones import milestone_overdue, overdue_counts
    from plans.models import Plan

    for kind in ("first_draft", "hwb_meeting", "submission_deadline"):
        Milestone.objects.create(plan=plan, kind=kind, due_on=date(2014, 2, 14))
    Plan.objects.filter(pk=plan.pk).update(state=state)
    plan.refresh_from_db()
    shown = {m.kind for m in plan.milestones.all() if milestone_overdue(m, plan, date(2026, 1, 1))}
    assert shown == overdue
    assert overdue_counts([plan])[plan.pk]["milestones"] == len(overdue)
    client.force_login(world.reviewer)
    page = client.get(URL).content.decode()
    assert ("Overdue" in page) == bool(overdue)
