"""Every money rule of the pooled fund, in one place.

The pooled budget for a year is the sum of every partner's contributions in that year; it must be
at least the area's minimum (its allocation). Totals are always derived here, never typed.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from finance.constants import FundingStream
from itf_portal.money import money_format

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Check:
    """A named rule with its answer, for the plan's readiness checklist."""

    name: str
    passed: bool
    message: str


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
    for entry in contribution_amounts(content):
        amounts[(entry["organisation"], entry["stream"], entry["year"])] += Decimal(entry["amount"])
    sections = []
    for partner in partners:
        rows = []
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
        checks.append(Check(f"Pooled budget {year} reaches the minimum", total >= minimum, message))
    return checks
