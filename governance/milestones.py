"""Milestones: the dated steps to submission, set by the area admin."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from governance.constants import MilestoneKind
from governance.models import Milestone
from governance.permissions import ASSIGN_PARTS, REFUSALS, has_area_perm
from plans.constants import SIGNING_STATES, PartStatus, PlanState
from plans.models import Part, Plan

# A milestone is met once the plan has moved past it, whether or not anyone typed the date done:
# the drafts when the plan is sealed for sign-off, the Board's meeting when its chair approves,
# the deadline when the plan is marked as submitted.
_PAST_DRAFTING = (*SIGNING_STATES, PlanState.SUBMITTED)
MET_IN: dict[str, tuple[str, ...]] = {
    MilestoneKind.FIRST_DRAFT: _PAST_DRAFTING,
    MilestoneKind.SECOND_DRAFT: _PAST_DRAFTING,
    MilestoneKind.FINAL_DRAFT: _PAST_DRAFTING,
    MilestoneKind.HWB_MEETING: (PlanState.APPROVED, PlanState.SUBMITTED),
    MilestoneKind.SUBMISSION_DEADLINE: (PlanState.SUBMITTED,),
}


def milestone_overdue(milestone: Milestone, plan: Plan, today: date) -> bool:
    return (
        milestone.due_on is not None
        and milestone.due_on < today
        and milestone.done_on is None
        and plan.state not in MET_IN[milestone.kind]
    )


def _overdue_milestones(today: date) -> Q:
    """`milestone_overdue` as a query."""
    unmet = Q()
    for kind, states in MET_IN.items():
        unmet |= Q(kind=kind) & ~Q(plan__state__in=states)
    return Q(due_on__lt=today, done_on__isnull=True) & unmet


def milestones_for(plan: Plan) -> list[Milestone]:
    """Every kind of milestone for the plan, in order (unsaved ones have no dates yet)."""
    saved = {m.kind: m for m in plan.milestones.all()}
    return [saved.get(kind) or Milestone(plan=plan, kind=kind) for kind in MilestoneKind.values]


@transaction.atomic
def milestones_set(*, plan: Plan, user, dates: dict[str, tuple[date | None, date | None]]) -> None:
    """Set each milestone's due date and the date it was done, all at once."""
    if not has_area_perm(user, ASSIGN_PARTS, plan.area):
        raise PermissionDenied(REFUSALS[ASSIGN_PARTS])
    problems = {}
    for kind, (_, done_on) in dates.items():
        if kind not in MilestoneKind.values:
            raise ValidationError("Unknown milestone.")
        if done_on and done_on > timezone.localdate():
            problems[f"{kind}_done"] = (
                f"{MilestoneKind(kind).label}: the date done cannot be in the future."
            )
    if problems:
        raise ValidationError(problems)
    for kind, (due_on, done_on) in dates.items():
        Milestone.objects.update_or_create(
            plan=plan, kind=kind, defaults={"due_on": due_on, "done_on": done_on}
        )


def overdue_counts(plans) -> dict[int, dict[str, int]]:
    """Overdue milestones and parts per plan, in two queries whatever the number of plans. A
    part is overdue only while it can still be written (the plan in drafting)."""
    today = timezone.localdate()
    counts = {plan.pk: {"milestones": 0, "parts": 0} for plan in plans}
    for row in (
        Milestone.objects.filter(_overdue_milestones(today), plan__in=plans)
        .values("plan_id")
        .annotate(n=Count("id"))
    ):
        counts[row["plan_id"]]["milestones"] = row["n"]
    for row in (
        Part.objects.filter(plan__in=plans, plan__state=PlanState.DRAFTING, due_date__lt=today)
        .filter(~Q(status=PartStatus.COMPLETE))
        .values("plan_id")
        .annotate(n=Count("id"))
    ):
        counts[row["plan_id"]]["parts"] = row["n"]
    return counts
