"""Domain functions for the pooled fund's money."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from finance.charts import bar_chart
from finance.constants import LOWER_IS_BETTER
from finance.fund import fund_store, fund_totals
from finance.models import Allocation, PerformanceMeasure
from finance.rules import (
    allocation_problem,
    contribution_amounts,
    minimum_checks,
    performance_split,
    risk_share_split,
    risk_share_weights,
    shares_problem,
    spend_against_pool,
    spend_checks,
    variance_notice,
)
from itf_portal.money import MoneyError, money_parse
from plans import services as plans_services
from plans.constants import NATIONAL_METRICS, FundingStream, PartKey, PartStatus, RiskShareBasis
from plans.models import Area, Part, Plan, PlanningRound
from plans.snapshot import plan_snapshot
from plans.template import PART_BY_KEY

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
    raise ValidationError({"year": f"year must be one of {', '.join(planning_round.year_labels)}"})


def allocation_check(
    *,
    planning_round: PlanningRound,
    area: Area,
    year: str,
    minimum: Decimal,
    performance: Decimal,
) -> AllocationRow:
    """One allocation, checked: the year is the round's and the performance element is within
    the minimum. A refusal names the year or the performance element."""
    start = _year(planning_round, year)
    if problem := allocation_problem(minimum, performance):
        raise ValidationError({"performance": problem})
    return AllocationRow(area, start, minimum, performance)


def _file_amounts(record: dict) -> tuple[dict[str, Decimal], list[str]]:
    """The two amounts of a line of an allocations file, or what is wrong with them, each named
    by its column."""
    amounts: dict[str, Decimal] = {}
    problems: list[str] = []
    for column in ("minimum", "performance_element"):
        try:
            amount = money_parse(record.get(column) or "")
        except MoneyError as error:
            problems.append(f"{column}: {error}")
            continue
        if amount is None:
            problems.append(f"{column}: enter an amount")
        else:
            amounts[column] = amount
    return amounts, problems


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
    try:
        names = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        raise ValidationError(f"The file is not a readable CSV file ({error}).") from error
    if names != ALLOCATION_COLUMNS:
        raise ValidationError(
            f"The first line must be the column names: {','.join(ALLOCATION_COLUMNS)}"
        )
    reader.fieldnames = names
    areas = {area.slug: area for area in Area.objects.all()}
    rows, problems, seen = [], [], set()
    try:
        records = list(reader)
    except csv.Error as error:
        raise ValidationError(f"The file is not a readable CSV file ({error}).") from error
    for line, record in enumerate(records, start=2):
        area = areas.get((record.get("area") or "").strip())
        if area is None:
            problems.append(f"line {line}: no area with the short name “{record.get('area')}”")
            continue
        amounts, amount_problems = _file_amounts(record)
        if amount_problems:
            problems += [f"line {line}: {problem}" for problem in amount_problems]
            continue
        try:
            row = allocation_check(
                planning_round=planning_round,
                area=area,
                year=record.get("year") or "",
                minimum=amounts["minimum"],
                performance=amounts["performance_element"],
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


def allocations_snapshot(plan) -> dict:
    """The area's allocations for the plan's round, as a sealed version records them."""
    return {
        a.year_label: {
            "minimum": str(a.minimum),
            "performance_element": str(a.performance_element),
        }
        for a in Allocation.objects.filter(area_id=plan.area_id, round_id=plan.round_id)
    }


def plan_snapshot_now(plan, number: int = 0) -> dict:
    """The plan's snapshot as it is now, with its allocations: what a seal would record."""
    return plan_snapshot(plan, number, allocations=allocations_snapshot(plan))


# The parts whose content the fund's rules and charts read.
FUND_KEYS = (PartKey.CONTRIBUTIONS, PartKey.SCHEMES)


def fund_contents(plan, part=None) -> dict:
    """The content of the parts the fund's rules and charts read (contributions, schemes), by
    key: read once for a page that shows both. `part`: one of them already read, whose content
    is not read again (300 schemes are 200 KB of it)."""
    contents = {part.key: part.content} if part is not None and part.key in FUND_KEYS else {}
    if wanted := [key for key in FUND_KEYS if key not in contents]:
        contents |= dict(plan.parts.filter(key__in=wanted).values_list("key", "content"))
    return contents


def plan_fund_summary(plan, contents: dict | None = None) -> dict:
    """Each year's minimum (from the allocation), total pooled budget (from the contributions)
    and net scheme spend, with the answers of the fund's rules."""
    labels = plan.round.year_labels
    allocations = {
        a.year_label: a
        for a in Allocation.objects.filter(area_id=plan.area_id, round_id=plan.round_id)
    }
    minimums = {year: a.minimum for year, a in allocations.items()}
    contents = fund_contents(plan) if contents is None else contents
    contributions = contents.get(PartKey.CONTRIBUTIONS) or {}
    schemes = contents.get(PartKey.SCHEMES) or {}
    # The totals are summed in SQL over the fund's tables; the rules read the same content.
    figures = fund_totals([plan.pk], labels)[plan.pk]
    totals, spend = figures.pooled, figures.net_spend
    known = {y: minimums[y] for y in labels if y in minimums}
    checks = minimum_checks(contributions, known)
    checks += spend_checks(schemes, contributions, known, labels)
    return {
        "years": [
            {
                "year": y,
                "minimum": minimums.get(y),
                "total": totals[y],
                "spend": spend[y],
                "against_pool": spend_against_pool(spend[y], totals[y]),
                "performance": performance_split(allocations[y].performance_element)
                if y in allocations and allocations[y].performance_element
                else None,
            }
            for y in labels
        ],
        "checks": checks,
    }


def _typed_shares(partners, typed: dict) -> tuple[dict, str]:
    """Agreed shares as typed on the arrangements page (not yet saved), by partner id, or what
    is wrong with them."""
    shares = {}
    for partner in partners:
        text = (typed.get(str(partner.pk)) or "").strip()
        try:
            share = Decimal(text) if text else None
        except InvalidOperation:
            share = Decimal(-1)
        if share is not None and not (share.is_finite() and 0 <= share <= 100):
            return {}, f"The share for {partner.name} must be a percentage from 0 to 100."
        shares[str(partner.pk)] = share
    if problem := shares_problem(list(shares.values())):
        return {}, problem
    return {pk: str(share) for pk, share in shares.items()}, ""


def risk_share_calculator(plan, overspend: str, year: str, *, shown: dict | None = None) -> dict:
    """ "If the pool over-spends by £X in a year, each partner bears …", shared as saved or,
    when the arrangements page sends them, as its basis and shares show before they are saved
    (`shown`: {"risk_share_basis": ..., "shares": {partner id: typed share}})."""
    years = plan.round.year_labels
    year = year if year in years else years[-1]
    # `error` is about the amount typed, `problem` about what it is shared by.
    result = {
        "typed": overspend,
        "year": year,
        "years": years,
        "error": "",
        "problem": "",
        "rows": [],
    }
    try:
        amount = money_parse(overspend)
    except MoneyError as error:
        result["error"] = f"{error}."
        return result
    if amount is None:
        return result
    contents = dict(
        plan.parts.filter(key__in=[PartKey.CONTRIBUTIONS, PartKey.ARRANGEMENTS]).values_list(
            "key", "content"
        )
    )
    partners = plan.partner_organisations
    arrangements = contents.get(PartKey.ARRANGEMENTS) or {}
    if shown is not None:
        arrangements = {"risk_share_basis": shown.get("risk_share_basis", "")}
        if arrangements["risk_share_basis"] == RiskShareBasis.AGREED:
            shares, problem = _typed_shares(partners, shown.get("shares") or {})
            if problem:
                result["problem"] = problem
                return result
            arrangements["shares"] = shares
    weights, basis = risk_share_weights(
        partners, contents.get(PartKey.CONTRIBUTIONS) or {}, arrangements, year
    )
    total = sum(weights.values(), Decimal(0))
    if not total:
        result["problem"] = (
            f"There is nothing to share by yet: enter the {year} contributions, or agreed shares."
        )
        return result
    shares = risk_share_split(amount, weights)
    result.update(
        amount=amount,
        basis=basis,
        # Under the saved threshold and notice period, as if the over-spend were found today.
        notice=variance_notice(
            amount, contents.get(PartKey.ARRANGEMENTS) or {}, timezone.localdate()
        ),
        rows=[
            {
                "partner": p.name,
                "percent": (weights[p.pk] * 100 / total).quantize(Decimal("0.1")),
                "bears": shares[p.pk],
            }
            for p in partners
        ],
    )
    return result


def plan_charts_now(plan, contents: dict | None = None) -> list[dict]:
    """The charts of the plan as it is now (the draft)."""
    return plan_finance_charts(plan, fund_contents(plan) if contents is None else contents)


def plan_finance_charts(frame, contents: dict) -> list[dict]:
    """For each year: contributions by partner and stream, and net spend by scheme. `frame` is
    the plan or a sealed version's frame (`plans.snapshot.snapshot_frame`); `contents` the
    parts' content by key, from the same version."""
    names = {o.pk: o.name for o in frame.partner_organisations}
    charts = []
    for year in frame.round.year_labels:
        contributions = [
            (
                f"{names.get(e['organisation'], e.get('organisation_name', ''))}: "
                f"{FundingStream(e['stream']).label}",
                Decimal(e["amount"]),
            )
            for e in contribution_amounts(contents.get(PartKey.CONTRIBUTIONS) or {})
            if e["year"] == year
        ]
        schemes = [
            (
                f"Income: {row.get('name', '')} (taken off)"
                if row.get("income")
                else row.get("name", ""),
                Decimal((row.get("spend") or {}).get(year) or "0"),
            )
            for row in (contents.get(PartKey.SCHEMES) or {}).get("rows", [])
        ]
        charts.append(
            {
                "year": year,
                "contributions": bar_chart(
                    f"Contributions {year}, by partner and stream", contributions
                ),
                "schemes": bar_chart(f"Spend {year} by scheme, and income", schemes),
            }
        )
    return charts


# ---- Saving parts, the fund's kept in its tables ----------------------------------------------


def part_save(
    *, part: Part, content: dict, status: str, base_version: int, user, reason: str = ""
) -> Part:
    """Save any part of a plan (`plans.services.part_save`); a fund part's rows are written to
    the fund's tables in the same transaction."""
    return plans_services.part_save(
        part=part,
        content=content,
        status=status,
        base_version=base_version,
        user=user,
        reason=reason,
        store=fund_store if PART_BY_KEY[part.key].in_tables else None,
    )


def part_row_save(*, part: Part, **change) -> Part:
    """Change, add or remove one row of a long table part (`plans.services.part_row_save`); a
    fund part's rows are written to the fund's tables in the same transaction."""
    return plans_services.part_row_save(
        part=part, **change, store=fund_store if PART_BY_KEY[part.key].in_tables else None
    )


def part_restore(*, part: Part, history_id: int, base_version: int, user) -> Part:
    """Bring back an earlier version of a part as a new version."""
    return plans_services.part_restore(
        part=part,
        history_id=history_id,
        base_version=base_version,
        user=user,
        store=fund_store if PART_BY_KEY[part.key].in_tables else None,
    )


@transaction.atomic
def contribution_set(
    *, plan: Plan, organisation, stream: str, year: str, amount: Decimal | None, user
) -> Part:
    """Set one partner's contribution from one funding stream in one year (None takes it out),
    as a new version of the contributions part, checked as any save is."""
    # The plan first, then its part, in the order every save takes them (plans.services.part_save),
    # so this and a save of the grid at once wait for each other rather than deadlock.
    Plan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    part = plan.parts.select_for_update().get(key=PartKey.CONTRIBUTIONS)
    amounts = [
        entry
        for entry in (part.content or {}).get("amounts", [])
        if (entry["organisation"], entry["stream"], entry["year"])
        != (organisation.pk, stream, year)
    ]
    if amount is not None:
        amounts.append(
            {
                "organisation": organisation.pk,
                "organisation_name": organisation.name,
                "stream": stream,
                "year": year,
                "amount": str(amount),
            }
        )
    return part_save(
        part=part,
        content={**(part.content or {}), "amounts": amounts},
        status=part.status if part.status != PartStatus.NOT_STARTED else PartStatus.IN_PROGRESS,
        base_version=part.version,
        user=user,
        reason=f"{organisation.name}, {FundingStream(stream).label}, {year} set",
    )


# ---- The element paid for performance ---------------------------------------------------------


def performance_terms(planning_round: PlanningRound) -> list[dict]:
    """How each national measure counts towards the element paid for performance in the round:
    as a national admin set it, else an equal share each, with the direction of
    `finance.constants.LOWER_IS_BETTER`."""
    stored = {m.name: m for m in PerformanceMeasure.objects.filter(round=planning_round)}
    equal = risk_share_split(Decimal(100), dict.fromkeys(NATIONAL_METRICS, Decimal(1)))
    terms = []
    for name in NATIONAL_METRICS:
        found = stored.get(name)
        terms.append(
            {
                "name": name,
                "share": found.share if found else equal[name],
                "lower_is_better": found.lower_is_better if found else LOWER_IS_BETTER[name],
            }
        )
    return terms


@transaction.atomic
def performance_terms_save(*, planning_round: PlanningRound, terms: list[dict]) -> None:
    """Set how the national measures count (each: name, share, lower_is_better); the shares
    must make 100%."""
    if any(term["share"] is None for term in terms):
        raise ValidationError("Give every measure a share of the payment.")
    total = sum(term["share"] for term in terms)
    if total != 100:
        raise ValidationError(f"The measures' shares must add up to 100%; they add up to {total}%.")
    for term in terms:
        if term["name"] not in NATIONAL_METRICS:
            raise ValidationError(f"{term['name']} is not a national measure.")
        PerformanceMeasure.objects.update_or_create(
            round=planning_round,
            name=term["name"],
            defaults={"share": term["share"], "lower_is_better": term["lower_is_better"]},
        )
