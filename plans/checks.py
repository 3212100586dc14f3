"""The readiness checklist's plumbing: a named rule with its answer. The rules themselves live
with what they check: each part's own (`plans.template`), the money's (`finance.rules`) and the
sign-off's (`governance.signoff.readiness_checks`)."""

from dataclasses import dataclass

# A measure names one figure that a workbook holds in one cell, so that a check or a Cover line
# can be a live formula of it: the total of a part's field for a year, or a year's minimum.
Measure = tuple[str, ...]


def total_of(part: str, field: str, year: str) -> Measure:
    """The total of a part's amounts of `field` ("amount", "spend") for `year`, net of income."""
    return ("total", str(part), field, year)


def minimum_of(year: str) -> Measure:
    return ("minimum", year)


def is_total(measure: Measure) -> bool:
    """A total is its table's own Total cell; any other measure is held where it is shown."""
    return measure[0] == "total"


@dataclass(frozen=True)
class Check:
    """A named rule with its answer, for the plan's readiness checklist."""

    name: str
    passed: bool
    message: str
    part: str = ""  # the part of the plan that fixes it
    # When set, the rule is "the first measure is at least the second", which a workbook can
    # keep as a live formula.
    at_least: tuple[Measure, Measure] | None = None
