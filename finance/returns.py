"""The quarterly return of a submitted plan's pooled fund, described once, as the plan's parts are
(`plans.template`): what the finance lead records each quarter for each scheme, each partner's
stream and each outcome measure. Its lines follow the submitted plan's own schemes, contributions
and measures; the form, the page and the monitoring rules (`finance.rules`) are derived from here.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from itf_portal.money import money_format
from itf_portal.years import year_label
from plans.constants import FundingStream
from plans.template import (
    ROW_LIMIT,
    Ask,
    Content,
    Kind,
    Money,
    Number,
    Recorded,
    Text,
    questions,
)

QUARTERS = (1, 2, 3, 4)
# The months each quarter of a financial year covers (April to March).
QUARTER_MONTHS = {
    1: "April to June",
    2: "July to September",
    3: "October to December",
    4: "January to March",
}


def quarter_start(year: int, quarter: int) -> date:
    """The first day of a quarter of the financial year starting in April of `year`."""
    return date(year + 1, 1, 1) if quarter == 4 else date(year, 1 + 3 * quarter, 1)


def quarter_end(year: int, quarter: int) -> date:
    """The last day of the quarter (30 June, 30 September, 31 December, 31 March)."""
    following = quarter_start(year, quarter + 1) if quarter < 4 else date(year + 1, 4, 1)
    return date.fromordinal(following.toordinal() - 1)


def quarter_name(year: int, quarter: int) -> str:
    """ "Quarter 2 of 2015/16 (July to September 2015)"."""
    end = quarter_end(year, quarter)
    return f"Quarter {quarter} of {year_label(year)} ({QUARTER_MONTHS[quarter]} {end.year})"


class SchemeLine(Content):
    """One scheme of the submitted plan, by its place in the plan's table."""

    position: int = Field(ge=0, lt=ROW_LIMIT)
    name: Recorded = ""
    spend_to_date: Annotated[
        Money,
        Ask("Spend to date", help="Spent on the scheme in the year so far, to the quarter's end."),
    ] = None
    forecast: Annotated[
        Money,
        Ask("Forecast outturn", help="What the scheme will have spent by the end of the year."),
    ] = None
    progress: Annotated[Text, Ask("Progress this quarter", lines=2)] = ""

    @model_validator(mode="after")
    def _forecast_covers_spend(self):
        if (
            self.forecast is not None
            and self.spend_to_date is not None
            and self.forecast < self.spend_to_date
        ):
            raise PydanticCustomError(
                "forecast_below_spend",
                "the forecast outturn cannot be less than the spend to date",
            )
        return self


class PaidLine(Content):
    """What one partner has actually paid into the pool from one stream in the year so far."""

    organisation: int
    organisation_name: Recorded = ""
    stream: str
    paid: Annotated[Money, Ask("Paid into the pool to date")] = None

    @field_validator("stream")
    @classmethod
    def _a_stream(cls, value: str) -> str:
        if value not in FundingStream.values:
            raise ValueError(f"{value} is not a funding stream")
        return value


class MetricLine(Content):
    """The latest actual of one of the plan's outcome measures, by its place in the plan."""

    position: int = Field(ge=0, lt=ROW_LIMIT)
    name: Recorded = ""
    actual: Annotated[
        Number,
        Ask(
            "Latest actual",
            help="Over the latest twelve months, as the plan projects a full year.",
        ),
    ] = None


class ReturnContent(Content):
    note: Annotated[
        Text,
        Ask(
            "Commentary for the partners",
            help="What is behind the figures, and what the pool manager proposes.",
            lines=4,
        ),
    ] = ""
    schemes: list[SchemeLine] = Field(default_factory=list, max_length=ROW_LIMIT)
    paid: list[PaidLine] = Field(default_factory=list, max_length=ROW_LIMIT)
    metrics: list[MetricLine] = Field(default_factory=list, max_length=ROW_LIMIT)


def return_check(content: dict) -> dict:
    """The return's content as stored, if it fits its description; else ContentError. Every
    write of a return passes here."""
    return ReturnContent.model_validate(content or {}).model_dump(mode="json")


def numbered_name(name: str | None, position: int, noun: str = "Scheme") -> str:
    """A line's name, or its number in the plan's table where it has none ("Scheme 3")."""
    return name or f"{noun} {position + 1}"


def _line_name(key: str, line: dict) -> str:
    if key == "paid":
        return f"{line.get('organisation_name', '')}, {FundingStream(line['stream']).label}"
    noun = "Scheme" if key == "schemes" else "Measure"
    return numbered_name(line.get("name"), line["position"], noun)


def return_labelled(content: dict) -> dict[str, str]:
    """Each answer of a return under a readable name ("Wellbeing: Forecast outturn"), for the
    differences a conflict or the history shows."""
    content = content or {}
    found = {questions(ReturnContent)[0].label: content.get("note", "")}
    lines: tuple[tuple[type[BaseModel], str], ...] = (
        (SchemeLine, "schemes"),
        (PaidLine, "paid"),
        (MetricLine, "metrics"),
    )
    for model, key in lines:
        for line in content.get(key, []):
            for question in questions(model):
                value = line.get(question.name)
                if value in ("", None):
                    value = ""
                elif question.kind == Kind.MONEY:
                    value = money_format(Decimal(value))
                found[f"{_line_name(key, line)}: {question.label}"] = str(value)
    return found


def return_changes(old: dict, new: dict) -> list[tuple[str, str, str]]:
    """What differs between two versions of a return: (answer, in the first, in the second)."""
    before, after = return_labelled(old), return_labelled(new)
    return [
        (label, before.get(label, ""), after.get(label, ""))
        for label in dict.fromkeys([*before, *after])
        if before.get(label, "") != after.get(label, "")
    ]
