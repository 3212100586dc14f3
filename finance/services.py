"""Domain functions for the pooled fund's money."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from finance.models import Allocation
from itf_portal.money import MoneyError, money_parse
from plans.models import Area, PlanningRound

ALLOCATION_COLUMNS = ["area", "year", "minimum", "performance_element"]


@dataclass(frozen=True)
class AllocationRow:
    area: Area
    year: int
    minimum: Decimal
    performance_element: Decimal


def _year(planning_round: PlanningRound, label: str) -> int:
    for year, year_text in zip(
        range(planning_round.first_year, planning_round.last_year + 1),
        planning_round.year_labels,
        strict=True,
    ):
        if label.strip() == year_text:
            return year
    raise ValidationError(f"year must be one of {', '.join(planning_round.year_labels)}")


def allocation_check(
    *, planning_round: PlanningRound, area: Area, year: str, minimum: str, performance: str
) -> AllocationRow:
    """One allocation, checked: the year is the round's, both amounts are money, and the
    performance element is within the minimum."""
    problems = []
    try:
        start = _year(planning_round, year)
    except ValidationError as error:
        problems += error.messages
        start = None
    amounts = {}
    for name, text in (("minimum", minimum), ("performance element", performance)):
        try:
            amounts[name] = money_parse(text)
            if amounts[name] is None:
                problems.append(f"{name}: enter an amount")
        except MoneyError as error:
            problems.append(f"{name}: {error}")
    if not problems and amounts["performance element"] > amounts["minimum"]:
        problems.append("the performance element cannot be more than the minimum")
    if problems:
        raise ValidationError(problems)
    return AllocationRow(area, start, amounts["minimum"], amounts["performance element"])


@transaction.atomic
def allocations_save(*, planning_round: PlanningRound, rows: list[AllocationRow]) -> int:
    for row in rows:
        Allocation.objects.update_or_create(
            area=row.area,
            round=planning_round,
            year=row.year,
            defaults={"minimum": row.minimum, "performance_element": row.performance_element},
        )
    return len(rows)


def allocations_load(*, planning_round: PlanningRound, text: str) -> int:
    """Check every row of an allocations CSV first; save all of them, or nothing, saying which
    lines are wrong."""
    reader = csv.DictReader(io.StringIO(text))
    if [name.strip() for name in reader.fieldnames or []] != ALLOCATION_COLUMNS:
        raise ValidationError(
            f"The first line must be the column names: {','.join(ALLOCATION_COLUMNS)}"
        )
    areas = {area.slug: area for area in Area.objects.all()}
    rows, problems, seen = [], [], set()
    for line, record in enumerate(reader, start=2):
        area = areas.get((record.get("area") or "").strip())
        if area is None:
            problems.append(f"line {line}: no area with the short name “{record.get('area')}”")
            continue
        try:
            row = allocation_check(
                planning_round=planning_round,
                area=area,
                year=record.get("year") or "",
                minimum=record.get("minimum") or "",
                performance=record.get("performance_element") or "",
            )
        except ValidationError as error:
            problems += [f"line {line}: {message}" for message in error.messages]
            continue
        if (area.pk, row.year) in seen:
            problems.append(f"line {line}: {area.slug} {record['year']} appears twice")
        seen.add((area.pk, row.year))
        rows.append(row)
    if problems:
        raise ValidationError(problems)
    return allocations_save(planning_round=planning_round, rows=rows)


def plan_fund_summary(plan) -> dict:
    """Each year's minimum (from the allocation) and total pooled budget (from the
    contributions), with the minimum rule's answer for the years that have an allocation."""
    from finance.rules import minimum_checks, pooled_budget
    from itf_portal.years import year_label
    from plans.constants import PartKey

    labels = plan.round.year_labels
    minimums = {
        year_label(a.year): a.minimum
        for a in Allocation.objects.filter(area_id=plan.area_id, round_id=plan.round_id)
    }
    contributions = plan.parts.filter(key=PartKey.CONTRIBUTIONS).values_list("content", flat=True)
    content = next(iter(contributions), {}) or {}
    totals = pooled_budget(content, labels)
    checks = minimum_checks(content, {y: minimums[y] for y in labels if y in minimums})
    return {
        "years": [{"year": y, "minimum": minimums.get(y), "total": totals[y]} for y in labels],
        "checks": checks,
    }
