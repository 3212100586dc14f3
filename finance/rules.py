"""Every money rule of the pooled fund, in one place.

The pooled budget for a year is the sum of every partner's contributions in that year; it must be
at least the area's minimum (its allocation). Totals are always derived here, never typed.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import Any

import holidays

from finance.constants import DEFAULT_MATERIALITY_THRESHOLD, DEFAULT_NOTICE_DAYS
from finance.returns import numbered_name
from itf_portal.money import money_format, money_stored
from plans.checks import Check, minimum_of, total_of
from plans.constants import FundingStream, PartKey, RiskShareBasis
from plans.template import HealthSpend, Metrics, spend_lines_for

ZERO = Decimal("0.00")


def contribution_amounts(content: dict) -> list[dict]:
    return [entry for entry in (content or {}).get("amounts", []) if entry.get("amount")]


def pooled_budget(content: dict, year_labels: list[str]) -> dict[str, Decimal]:
    """Total pooled budget for each year: the sum of all contributions in that year."""
    totals = dict.fromkeys(year_labels, ZERO)
    for entry in contribution_amounts(content):
        if entry["year"] in totals:
            totals[entry["year"]] += Decimal(entry["amount"])
    return totals


def contributions_table(content: dict, partners: list, year_labels: list[str]) -> dict:
    """The contributions grid as rows (partner, stream, amount per year, row total), a sub-total
    per partner, and the pooled budget per year with its grand total."""
    amounts: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    current = {partner.pk for partner in partners}
    former = {}
    for entry in contribution_amounts(content):
        amounts[(entry["organisation"], entry["stream"], entry["year"])] += Decimal(entry["amount"])
        if entry["organisation"] not in current:
            name = f"{entry.get('organisation_name') or 'An organisation'} (no longer a partner)"
            former[entry["organisation"]] = SimpleNamespace(pk=entry["organisation"], name=name)
    sections = []
    # Money from a partner that has left still counts until someone removes it, so it is shown.
    for partner in [*partners, *former.values()]:
        rows: list[dict[str, Any]] = []
        for stream in FundingStream:
            values = [amounts[(partner.pk, stream.value, year)] for year in year_labels]
            rows.append({"stream": stream.label, "values": values, "total": sum(values, ZERO)})
        subtotal = [sum(row["values"][i] for row in rows) for i in range(len(year_labels))]
        sections.append(
            {
                "partner": partner,
                "rows": rows,
                "subtotal": subtotal,
                "subtotal_total": sum(subtotal, ZERO),
            }
        )
    budget = pooled_budget(content, year_labels)
    return {
        "years": year_labels,
        "sections": sections,
        "budget": [budget[year] for year in year_labels],
        "budget_total": sum(budget.values(), ZERO),
    }


def minimum_checks(content: dict, allocations: dict[str, Decimal]) -> list[Check]:
    """For each year with an allocation: does the pooled budget reach the minimum?"""
    budget = pooled_budget(content, list(allocations))
    checks = []
    for year, minimum in allocations.items():
        total = budget[year]
        if total >= minimum:
            message = (
                f"The {year} pooled budget of {money_format(total)} reaches the minimum of "
                f"{money_format(minimum)}."
            )
        else:
            message = (
                f"The {year} pooled budget of {money_format(total)} is "
                f"{money_format(minimum - total)} short of the minimum of {money_format(minimum)}."
            )
        checks.append(
            Check(
                f"Pooled budget {year} reaches the minimum",
                total >= minimum,
                message,
                PartKey.CONTRIBUTIONS,
                at_least=(total_of(PartKey.CONTRIBUTIONS, "amount", year), minimum_of(year)),
            )
        )
    return checks


def _year_amount(row: dict, key: str, year: str) -> Decimal:
    value = (row.get(key) or {}).get(year) or "0"
    return Decimal(value)


def scheme_net_spend(content: dict, year_labels: list[str]) -> dict[str, Decimal]:
    """Net spend per year across the schemes: spend, less income lines."""
    totals = dict.fromkeys(year_labels, ZERO)
    for row in (content or {}).get("rows", []):
        sign = -1 if row.get("income") else 1
        for year in year_labels:
            totals[year] += sign * _year_amount(row, "spend", year)
    return totals


def spend_checks(
    schemes: dict, contributions: dict, minimums: dict[str, Decimal], year_labels: list[str]
) -> list[Check]:
    """The template's rule for the schemes: the pooled budget's net spend "must be equal to or
    more than your total ITF allocation" (the minimum) in every year. A year with no minimum set
    yet is left to the check that asks for it. Spend against the pool itself is no rule: a
    planned over- or under-spend is shown and explained (`spend_against_pool`)."""
    spend = scheme_net_spend(schemes, year_labels)
    budget = pooled_budget(contributions, year_labels)
    checks = []
    for year in year_labels:
        name = f"Scheme spend {year} is at least the ITF allocation"
        live = (total_of(PartKey.SCHEMES, "spend", year), minimum_of(year))
        if not budget[year] and not spend[year]:
            message = f"Nothing has been entered for {year} yet: no contributions and no spend."
            checks.append(
                Check(
                    name,
                    False,
                    message,
                    PartKey.CONTRIBUTIONS,
                    at_least=live if year in minimums else None,
                )
            )
            continue
        if year not in minimums:
            continue
        minimum = minimums[year]
        if spend[year] >= minimum:
            message = (
                f"Net scheme spend in {year} of {money_format(spend[year])} is at least the ITF "
                f"allocation of {money_format(minimum)}."
            )
        else:
            message = (
                f"Net scheme spend in {year} of {money_format(spend[year])} is "
                f"{money_format(minimum - spend[year])} short of the ITF allocation of "
                f"{money_format(minimum)}."
            )
        checks.append(
            Check(
                name,
                spend[year] >= minimum,
                message,
                PartKey.SCHEMES,
                at_least=live,
            )
        )
    return checks


def spend_against_pool(spend: Decimal, pooled: Decimal) -> str:
    """A year's planned net spend against its pooled budget, in words: a line to explain, never a
    blocker (Plymouth plans to spend £26,742k more than its pool, met by its partners)."""
    gap = spend - pooled
    if not spend and not pooled:
        return ""
    if gap == 0:
        return "The schemes spend the whole pooled budget."
    if gap > 0:
        return (
            f"The schemes plan to spend {money_format(gap)} more than the pooled budget: say in "
            "the plan how the partners meet it."
        )
    return f"{money_format(-gap)} of the pooled budget is not yet planned to be spent on a scheme."


def risk_share_split(amount: Decimal, weights: dict) -> dict:
    """Split an amount between partners in proportion to their weights, to the penny: shares are
    rounded down and the pennies left over go to the largest remainders, so they always add up
    to the amount exactly. An under-spend (a negative amount) is split as its size, negated."""
    if amount < 0:
        return {key: -share for key, share in risk_share_split(-amount, weights).items()}
    pennies = int((amount * 100).to_integral_value())
    total_weight = sum(weights.values(), Decimal(0))
    if not weights or total_weight <= 0:
        return dict.fromkeys(weights, ZERO)
    exact = {key: Decimal(pennies) * weight / total_weight for key, weight in weights.items()}
    floors = {key: int(value) for key, value in exact.items()}
    left = pennies - sum(floors.values())
    by_remainder = sorted(weights, key=lambda key: exact[key] - floors[key], reverse=True)
    for key in by_remainder[:left]:
        floors[key] += 1
    return {key: Decimal(value) / 100 for key, value in floors.items()}


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def working_day(day: date) -> bool:
    """Monday to Friday and not one of England's bank holidays (the `holidays` package's, which
    moves a holiday that falls on a weekend to the Monday, as the government does)."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_after(start: date, days: int) -> date:
    """The day `days` working days after `start` (the day itself not counted): when a notice
    raised on `start` is due."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= working_day(day)
    return day


def materiality_threshold(arrangements: dict | None) -> Decimal:
    """The over- or under-spend at which the pool manager tells every partner: the
    arrangements' own threshold, else the default."""
    typed = (arrangements or {}).get("materiality_threshold")
    return Decimal(typed or DEFAULT_MATERIALITY_THRESHOLD)


def _material(variance: Decimal, threshold: Decimal) -> bool:
    return bool(variance) and abs(variance) >= threshold


def variance_notice(variance: Decimal, arrangements: dict, raised: date) -> dict | None:
    """What an over- or under-spend of `variance` in a year asks of the pool manager under the
    arrangements: none below the materiality threshold; at or beyond it, a notice to every
    partner within the agreed working days, and the variance is a material change that needs the
    section 75 agreement amended."""
    arrangements = arrangements or {}
    threshold = materiality_threshold(arrangements)
    if not _material(variance, threshold):
        return None
    days = int(arrangements.get("notice_days") or DEFAULT_NOTICE_DAYS)
    return {
        "threshold": threshold,
        "days": days,
        "raised": raised,
        "due": working_days_after(raised, days),
    }


def notice_needed(overspend: Decimal, last_notified: Decimal | None, arrangements: dict) -> bool:
    """Whether a return's forecast over- or under-spend asks for a new notice to the partners:
    when it is at or beyond the materiality threshold and none has been given for the year yet,
    or the forecast has moved by the threshold or more since the last one (a smaller move is not
    material, and the partners already know of the variance)."""
    threshold = materiality_threshold(arrangements)
    if not _material(overspend, threshold):
        return False
    if last_notified is None:
        return True
    moved = abs(overspend - last_notified)
    return moved > 0 and moved >= threshold


def spend_lines(plan, content: dict | None = None) -> list[dict]:
    """The template's commissioner lines for the plan's partners (`plans.template`), then any
    line stored in `content` that they no longer have (a CCG that has left the area): its
    figures still count until someone removes them, so they are shown."""
    council = next(o for o in plan.partner_organisations if o.is_local_authority)
    ccgs = [(o.pk, o.name) for o in plan.partner_organisations if not o.is_local_authority]
    lines = spend_lines_for(council.name, ccgs)
    known = {line["key"] for line in lines}
    labels = (content or {}).get("line_labels", {})
    for key in (content or {}).get("lines", {}):
        if key not in known:
            label = f"{labels.get(key, key)} (no longer a partner)"
            lines.append({"key": key, "label": label, "organisation": label})
    return lines


def spend_table(content: dict, lines: list[dict], years: list[str]) -> dict:
    """Spend and benefits per line and year, a sub-total per organisation, and a total."""
    stored = (content or {}).get("lines", {})
    columns = [(year, key) for year in years for key in ("spend", "benefits")]

    def values(line_key: str) -> list[Decimal]:
        found = stored.get(line_key) or {}
        return [Decimal((found.get(key) or {}).get(year) or "0") for year, key in columns]

    rows: list[dict[str, Any]] = []
    subtotals: dict[str, list[Decimal]] = {}
    for line in lines:
        line_values = values(line["key"])
        rows.append({"label": line["label"], "values": line_values})
        running = subtotals.setdefault(line["organisation"], [ZERO] * len(columns))
        subtotals[line["organisation"]] = [a + b for a, b in zip(running, line_values, strict=True)]
    total = (
        [sum(column, ZERO) for column in zip(*subtotals.values(), strict=True)] if subtotals else []
    )
    return {
        "line_heading": HealthSpend.line_heading,
        "headers": [f"{year} {key}" for year, key in columns],
        "rows": rows,
        "subtotals": [{"organisation": name, "values": v} for name, v in subtotals.items()],
        "total": total,
    }


def allocation_problem(minimum: Decimal, performance_element: Decimal) -> str:
    """The performance element is part of the minimum, so it cannot be more than it."""
    if performance_element > minimum:
        return "The amount paid for performance cannot be more than the minimum"
    return ""


def performance_split(amount: Decimal) -> dict:
    """The element paid for performance: half at the start of the year on an agreed plan and the
    previous year's performance, half in-year (exact to the penny)."""
    halves = risk_share_split(amount, {"start": Decimal(1), "in_year": Decimal(1)})
    return {"amount": amount, **halves}


def shares_problem(shares: list) -> str:
    """Agreed risk shares: every partner has one and together they make 100%."""
    if any(share is None for share in shares):
        return "Give every partner a share, or share in proportion to contributions."
    if sum(shares) != 100:
        return f"The agreed shares must add up to 100%; they add up to {sum(shares)}%."
    return ""


def risk_share_weights(
    partners: list, contributions: dict, arrangements: dict, year: str
) -> tuple[dict, str]:
    """What an over- or under-spend in a year is shared by: the agreed shares if the partners set
    them, else each partner's contributions in that year. Returns (weights by partner id, basis)."""
    shares = (arrangements or {}).get("shares") or {}
    if (arrangements or {}).get("risk_share_basis") == RiskShareBasis.AGREED and shares:
        weights = {p.pk: Decimal(shares.get(str(p.pk)) or "0") for p in partners}
        return weights, "the agreed shares"
    weights = dict.fromkeys((p.pk for p in partners), ZERO)
    for entry in contribution_amounts(contributions):
        if entry["organisation"] in weights and entry["year"] == year:
            weights[entry["organisation"]] += Decimal(entry["amount"])
    return weights, f"each partner's {year} contributions"


# ---- In-year monitoring: a quarterly return against the submitted plan ------------------------


def return_figures(
    *,
    schemes: dict,
    contributions: dict,
    arrangements: dict,
    metrics: dict,
    partners: list,
    year: str,
    content: dict,
) -> dict:
    """A quarterly return against the plan it monitors, for the return's year: each scheme's
    forecast outturn against its planned spend (an income line counts against spend), the same by
    funding stream and for the whole pool, and the forecast over- or under-spend against the
    pooled budget (the partners' contributions) split by the agreed risk share, and the net spend
    to date. A scheme with no forecast yet counts at its plan (named in `unforecast` if it plans
    to spend in the year). Each partner's payments in are
    set against what it plans to put in; each measure's latest actual against its projection."""
    content = content or {}
    lines = {line["position"]: line for line in content.get("schemes", [])}
    rows, unforecast = [], []
    spent = ZERO
    streams: dict[str, dict] = {}
    for position, row in enumerate((schemes or {}).get("rows", [])):
        sign = -1 if row.get("income") else 1
        planned = _year_amount(row, "spend", year)
        line = lines.get(position, {})
        forecast = money_stored(line.get("forecast"))
        if forecast is None and planned:
            unforecast.append(numbered_name(row.get("name"), position))
        spent += sign * (money_stored(line.get("spend_to_date")) or ZERO)
        counted = planned if forecast is None else forecast
        shown = {
            "position": position,
            "name": row.get("name", ""),
            "stream": row.get("stream", ""),
            "income": bool(row.get("income")),
            "planned": planned,
            "spend_to_date": money_stored(line.get("spend_to_date")),
            "forecast": forecast,
            "progress": line.get("progress", ""),
            "variance": sign * (counted - planned),
            # In the year's figures at all: planned to spend in it, or something said of it.
            "active": bool(planned)
            or any(
                line.get(k) not in ("", None) for k in ("spend_to_date", "forecast", "progress")
            ),
        }
        rows.append(shown)
        label = FundingStream(row["stream"]).label if row.get("stream") else "No stream given"
        stream = streams.setdefault(label, {"stream": label, "planned": ZERO, "forecast": ZERO})
        stream["planned"] += sign * planned
        stream["forecast"] += sign * counted
    for stream in streams.values():
        stream["variance"] = stream["forecast"] - stream["planned"]
    shown_streams = [s for s in streams.values() if s["planned"] or s["forecast"]]
    planned_net = sum((s["planned"] for s in streams.values()), ZERO)
    forecast_net = sum((s["forecast"] for s in streams.values()), ZERO)
    pool = pooled_budget(contributions, [year])[year]
    overspend = forecast_net - pool
    weights, basis = risk_share_weights(partners, contributions, arrangements, year)
    total_weight = sum(weights.values(), Decimal(0))
    bears = risk_share_split(overspend, weights) if total_weight else {}
    # Each partner's share as a percentage to two places, made to add up to 100 as the money does.
    percents = risk_share_split(Decimal(100), weights) if total_weight else {}
    split = [
        {
            "organisation": partner.pk,
            "name": partner.name,
            "percent": _whole_if_whole(percents[partner.pk]) if total_weight else None,
            "bears": bears.get(partner.pk, ZERO),
        }
        for partner in partners
    ]
    return {
        "year": year,
        "schemes": rows,
        "streams": shown_streams,
        "spent": spent,
        "note": content.get("note", ""),
        "progress": [row for row in rows if row["progress"]],
        "planned": planned_net,
        "forecast": forecast_net,
        "variance": forecast_net - planned_net,
        "pool": pool,
        "overspend": overspend,
        "unforecast": unforecast,
        "basis": basis,
        "split": split,
        "paid": paid_in(contributions, partners, year, content),
        "metrics": metric_actuals(metrics, year, content),
    }


def _whole_if_whole(value: Decimal) -> Decimal:
    """75.00 as 75, 33.34 as it is."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def paid_in(contributions: dict, partners: list, year: str, content: dict) -> list[dict]:
    """For each partner and stream it plans to pool in the year: the plan, what the return says
    it has paid in so far, and what is still to come."""
    paid = {
        (line["organisation"], line["stream"]): money_stored(line.get("paid"))
        for line in (content or {}).get("paid", [])
    }
    names = {partner.pk: partner.name for partner in partners}
    planned: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for entry in contribution_amounts(contributions):
        if entry["year"] == year:
            planned[(entry["organisation"], entry["stream"])] += Decimal(entry["amount"])
    rows = []
    for (organisation, stream), amount in planned.items():
        so_far = paid.get((organisation, stream))
        rows.append(
            {
                "organisation": organisation,
                "name": names.get(organisation, "A former partner"),
                "stream": stream,
                "stream_label": FundingStream(stream).label,
                "planned": amount,
                "paid": so_far,
                "to_come": amount - (so_far or ZERO),
            }
        )
    return rows


def metric_actuals(metrics: dict, year: str, content: dict) -> list[dict]:
    """Each of the plan's outcome measures: its baseline, its projection for the year and the
    latest actual the return gives."""
    actuals = {line["position"]: line for line in (content or {}).get("metrics", [])}
    return [
        {
            "position": position,
            "name": row.get("name", ""),
            "national": bool(row.get("national")),
            "unit": row.get("unit", ""),
            "baseline": money_stored(row.get("baseline")),
            "projection": money_stored((row.get("projections") or {}).get(year)),
            "actual": money_stored(actuals.get(position, {}).get("actual")),
        }
        for position, row in enumerate(Metrics.rows_shown(metrics))
    ]


# ---- The element paid for performance ---------------------------------------------------------


def measure_achieved(actual: Decimal | None, projection: Decimal | None, lower_is_better: bool):
    """Whether a measure's target is met: its actual at or better than the plan's projection
    for the year (None while either is not known)."""
    if actual is None or projection is None:
        return None
    return actual <= projection if lower_is_better else actual >= projection


def performance_payments(
    *,
    element: Decimal,
    year: str,
    previous: str,
    terms: list[dict],
    results: dict[str, list[dict]],
) -> list[dict]:
    """The element paid for performance in `year`, at its two payment points (seeds 000 and
    002): half at the start of the year, on an agreed plan and the previous year's performance;
    half later in the year, on in-year performance. Each half is split between the national
    measures by their shares (`terms`: name, share, lower_is_better), to the penny; a measure
    earns its part when its latest actual for the payment's year meets the plan's projection
    (`results`: by year, the `metric_actuals` rows). What is not earned, or not yet known, is
    said too."""
    halves = performance_split(element)
    points = [
        (
            "At the start of the year, on an agreed plan and last year's performance",
            previous,
            halves["start"],
        ),
        ("Later in the year, on in-year performance", year, halves["in_year"]),
    ]
    payments = []
    for name, basis, amount in points:
        parts = risk_share_split(amount, {t["name"]: Decimal(t["share"]) for t in terms})
        shown = {row["name"]: row for row in results.get(basis, []) if row.get("national")}
        measures = []
        for term in terms:
            row = shown.get(term["name"], {})
            achieved = measure_achieved(
                row.get("actual"), row.get("projection"), term["lower_is_better"]
            )
            measures.append(
                {
                    "name": term["name"],
                    "share": _whole_if_whole(Decimal(term["share"])),
                    "better": "lower" if term["lower_is_better"] else "higher",
                    "projection": row.get("projection"),
                    "actual": row.get("actual"),
                    "achieved": achieved,
                    "worth": parts.get(term["name"], ZERO),
                }
            )
        earned = sum((m["worth"] for m in measures if m["achieved"]), ZERO)
        unknown = sum((m["worth"] for m in measures if m["achieved"] is None), ZERO)
        payments.append(
            {
                "name": name,
                "basis": basis,
                "amount": amount,
                "measures": measures,
                "earned": earned,
                "missed": amount - earned - unknown,
                "unknown": unknown,
            }
        )
    return payments


def contingency_support(contingency: dict, year: str) -> dict:
    """What the contingency plan says is needed if targets are missed: its plan, and for the
    year each outcome's maximum support for other services, with their total."""
    rows = [
        {
            "outcome": row.get("outcome", ""),
            "support": money_stored((row.get("support") or {}).get(year)),
        }
        for row in (contingency or {}).get("rows", [])
    ]
    return {
        "plan_text": (contingency or {}).get("plan_text", ""),
        "rows": [row for row in rows if row["support"] is not None],
        "total": sum((row["support"] or ZERO for row in rows), ZERO),
    }
