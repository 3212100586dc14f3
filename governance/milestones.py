"""Milestones: the dated steps to submission, set by the area admin."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from governance.constants import MilestoneKind
from governance.models import Milestone
from governance.permissions import ASSIGN_PARTS, REFUSALS, has_area_perm
from plans.constants import PartStatus
from plans.models import Part, Plan


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
    """Overdue milestones and parts per plan, in two queries whatever the number of plans."""
    today = timezone.localdate()
    counts = {plan.pk: {"milestones": 0, "parts": 0} for plan in plans}
    for row in (
        Milestone.objects.filter(plan__in=plans, due_on__lt=today, done_on__isnull=True)
        .values("plan_id")
        .annotate(n=Count("id"))
    ):
        counts[row["plan_id"]]["milestones"] = row["n"]
    for row in (
        Part.objects.filter(plan__in=plans, due_date__lt=today)
        .filter(~Q(status=PartStatus.COMPLETE))
        .values("plan_id")
        .annotate(n=Count("id"))
    ):
        counts[row["plan_id"]]["parts"] = row["n"]
    return counts
