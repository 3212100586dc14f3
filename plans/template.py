"""The Draft Plan Submission Template, described once (seed 003 is the template itself).

Each part of the plan is one `PartSpec`: its heading, question and guidance points in the
template's own words, the group it sits in, who edits it, and a pydantic model of its content.
Each field of that model carries an `Ask`: its short label, the template's words for it where the
template asks it separately, plain-English help beside those words, and whether it must be
answered before the part is complete. A field's kind (text, yes/no, date, percent, money …)
is its type.

The forms, the read-only pages, the history's labels, the workbook and the PDF are derived from
this module; `content_check` is what every write of a part passes, whoever calls it.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic import ValidationError as ContentError
from pydantic_core import PydanticCustomError

from itf_portal.money import LIMIT
from plans.checks import Check
from plans.constants import (
    EDIT_FINANCE,
    EDIT_PLAN,
    NATIONAL_METRICS,
    FundingStream,
    PartKey,
    Rating,
    RiskShareBasis,
    SchemeType,
)

TEXT_LIMIT = 10_000
SHORT_LIMIT = 200
ROW_LIMIT = 1000
# The most text one part may hold, over all its answers and rows (about 40 printed pages), so a
# plan's paper stays a size a board can read and a server can print.
PART_TEXT_LIMIT = 100_000


class Kind(StrEnum):
    """What a person types into a field; forms, cells and the history read it from here."""

    TEXT = "text"
    SHORT_TEXT = "short_text"
    LINK = "link"
    YES_NO = "yes_no"
    DATE = "date"
    PERCENT = "percent"
    NUMBER = "number"
    MONEY = "money"
    DAYS = "days"
    CHOICE = "choice"
    PARTNER = "partner"
    FLAG = "flag"


@dataclass(frozen=True)
class Ask:
    """How one field is asked: its short label (form label, column heading, history), the
    template's own words where the template asks it separately, help in plain English beside
    them, and whether it is needed before the part can be marked complete."""

    label: str
    words: str = ""
    help: str = ""
    needed: bool = False
    lines: int = 8  # the height of a long answer's box
    per: str = ""  # a field with a value per year: "year", or "last year and ongoing"
    choices: Any = None  # the TextChoices of a choice field
    radios: bool = False  # a choice shown as radios (else a drop-down with "Choose")
    negates: str = ""  # a flag's: the per-year field of its row that counts as income when set
    other_of: str = ""  # the choice field whose "other" this describes (shown in its place)


def _blank(value):
    return None if value in ("", None) else value


def _blank_text(value):
    return "" if value is None else value


def _as_text(value) -> str:
    return "" if value is None else str(value)


def _as_date(value) -> str:
    return "" if value is None else value.isoformat()


def _as_id(value):
    return "" if value is None else value


# The field kinds. Stored JSON keeps "" for an empty answer, decimals as text and dates as ISO
# dates, so what is stored, sealed and compared is the same before and after a check.
Text = Annotated[
    str, StringConstraints(max_length=TEXT_LIMIT), Kind.TEXT, BeforeValidator(_blank_text)
]
ShortText = Annotated[
    str, StringConstraints(max_length=SHORT_LIMIT), Kind.SHORT_TEXT, BeforeValidator(_blank_text)
]
Link = Annotated[
    str,
    StringConstraints(max_length=2000, pattern=r"^(|https?://\S+)$"),
    Kind.LINK,
    BeforeValidator(_blank_text),
]
YesNo = Annotated[Literal["", "yes", "no"], Kind.YES_NO, BeforeValidator(_blank_text)]
DateAnswer = Annotated[
    date | None, Kind.DATE, BeforeValidator(_blank), PlainSerializer(_as_date, return_type=str)
]


def _decimal(kind: Kind, low: Decimal, high: Decimal) -> Any:
    """A decimal answer within bounds, to the penny; empty is None and is stored as ""."""
    bounded = Annotated[Decimal, Field(ge=low, le=high, max_digits=14, decimal_places=2)]
    return Annotated[
        bounded | None, kind, BeforeValidator(_blank), PlainSerializer(_as_text, return_type=str)
    ]


Percent = _decimal(Kind.PERCENT, Decimal(0), Decimal(100))
Number = _decimal(Kind.NUMBER, -LIMIT, LIMIT)
Money = _decimal(Kind.MONEY, Decimal(0), LIMIT)
Days = Annotated[
    Annotated[int, Field(ge=1, le=60)] | None,
    Kind.DAYS,
    BeforeValidator(_blank),
    PlainSerializer(_as_id),
]
PartnerId = Annotated[int | None, Kind.PARTNER, BeforeValidator(_blank), PlainSerializer(_as_id)]
Flag = Annotated[bool, Kind.FLAG]
# A name recorded beside an id (a partner's, a line's) so that a sealed version still reads
# right after the partner has left the area. Never asked: kept from the plan's partners.
Recorded = Annotated[str, StringConstraints(max_length=SHORT_LIMIT)]


def _choice(choices) -> Any:
    return Annotated[Literal[("", *choices.values)], Kind.CHOICE, BeforeValidator(_blank_text)]


@dataclass(frozen=True)
class Derived:
    """A column the portal works out from a row's answers (never typed, never stored), shown
    after the asked field `after`."""

    label: str
    after: str
    value: Any  # row dict -> the shown text


class Content(BaseModel):
    """A part's content. Unknown keys are refused, so nothing can be stored that no page shows."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
    # Columns worked out from a row's answers (a row model's hook; none by default).
    derived: ClassVar[tuple[Derived, ...]] = ()
    # Whether the part's heading labels its one answer (a narrative part's), else each field's.
    asks_heading: ClassVar[bool] = False
    # A row model's columns in the overview of a long table whose rows are each edited on their
    # own page (the field names, or a derived column's label); empty: the rows are edited together.
    overview: ClassVar[tuple[str, ...]] = ()
    # A row model's field that names a row in the history and the previews: "Scheme 3 (Falls
    # prevention)"; empty: rows go by their number alone.
    named_by: ClassVar[str] = ""

    @classmethod
    def rows_shown(cls, content: dict) -> list[dict]:
        """The part's rows as every page, sheet and paper shows them (a hook; by default the
        stored rows)."""
        return list((content or {}).get("rows", []))

    @classmethod
    def checks(cls, content: dict, year_labels: list[str]) -> list[Check]:
        """The part's own readiness rules beyond being complete, for the checklist before
        sign-off (a hook; none by default)."""
        return []

    @field_validator("*", mode="after")
    @classmethod
    def _years_known(cls, value, info: ValidationInfo):
        # A value per year is keyed by the plan's year labels (context "periods"), never others.
        periods = (info.context or {}).get("periods")
        ask = ask_of(cls, info.field_name) if info.field_name else None
        if periods and ask and ask.per and isinstance(value, dict):
            unknown = sorted(set(value) - set(periods[ask.per]))
            if unknown:
                raise ValueError(f"{', '.join(unknown)} is not a year of this plan")
        return value


def ask_of(model: type[BaseModel], name: str) -> Ask | None:
    return next((item for item in model.model_fields[name].metadata if isinstance(item, Ask)), None)


def kind_of(model: type[BaseModel], name: str) -> Kind | None:
    field_info = model.model_fields[name]
    found = [item for item in field_info.metadata if isinstance(item, Kind)]
    annotation = field_info.annotation
    # A per-year field is dict[str, Money]: its kind is its values'.
    for arg in getattr(annotation, "__args__", ()):
        found += [item for item in getattr(arg, "__metadata__", ()) if isinstance(item, Kind)]
    return found[0] if found else None


@dataclass(frozen=True)
class Question:
    """One field of a part or of one of its rows, as the description gives it."""

    name: str
    kind: Kind
    ask: Ask

    @property
    def label(self) -> str:
        return self.ask.label


@cache
def questions(model: type[BaseModel]) -> tuple[Question, ...]:
    """The asked fields of a content or row model, in order (recorded names are left out)."""
    found = []
    for name in model.model_fields:
        ask, kind = ask_of(model, name), kind_of(model, name)
        if ask is not None and kind is not None:
            found.append(Question(name, kind, ask))
    return tuple(found)


@dataclass(frozen=True)
class Cell:
    """One asked field as a form input and a table column; a field with a value per year is one
    cell per period ("2014/15 spend", "Ongoing planned savings")."""

    question: Question
    period: str = ""
    number: int = 0  # the period's position among the field's periods

    @property
    def name(self) -> str:
        """The form input's name (within its row)."""
        return f"{self.question.name}_{self.number}" if self.period else self.question.name

    @property
    def header(self) -> str:
        if not self.period:
            return self.question.label
        shown = "Ongoing" if self.period == "ongoing" else self.period
        return f"{shown} {self.question.label}"

    @property
    def kind(self) -> Kind:
        return self.question.kind

    def value(self, row: dict):
        """The cell's stored value in a part's or a row's content."""
        value = row.get(self.question.name)
        if self.period:
            return (value or {}).get(self.period, "")
        return value


def cells(model: type[BaseModel], year_labels: list[str]) -> list[Cell]:
    """The asked fields of a content or row model as cells, in order: the plain fields, then
    each period's values (the template's order: "2014/15 spend, 2014/15 benefits, 2015/16 …")."""
    return list(_cells(model, tuple(year_labels or ())))


@cache
def _cells(model: type[BaseModel], year_labels: tuple[str, ...]) -> tuple[Cell, ...]:
    asked = questions(model)
    found = [Cell(q) for q in asked if not q.ask.per]
    by_period = periods(list(year_labels)) if year_labels else {}
    for per in dict.fromkeys(q.ask.per for q in asked if q.ask.per):
        for number, period in enumerate(by_period.get(per, [])):
            found += [Cell(q, period, number) for q in asked if q.ask.per == per]
    return tuple(found)


def layout(model: type[Content], year_labels: list[str]) -> list[Cell | Derived]:
    """A row model's columns as a table shows them: its cells, with its derived columns after
    the fields they follow."""
    found: list[Cell | Derived] = []
    for cell in cells(model, year_labels):
        found.append(cell)
        found += [d for d in model.derived if d.after == cell.name]
    return found


def recorded_name(model: type[BaseModel], name: str) -> str:
    """The recorded-name field kept beside a partner field ("lead_commissioner_name"), or ""."""
    return f"{name}_name" if f"{name}_name" in model.model_fields else ""


def risk_rating(impact: str, probability: str) -> str:
    """The template's "Risk Rating": impact times probability, each scored 3, 2 or 1."""
    score: dict[str, int] = {Rating.HIGH: 3, Rating.MEDIUM: 2, Rating.LOW: 1}
    product = score.get(impact, 0) * score.get(probability, 0)
    if not product:
        return ""
    if product >= 6:
        return Rating.HIGH.label
    return Rating.MEDIUM.label if product >= 3 else Rating.LOW.label


# ---- The parts' content ---------------------------------------------------------------------


class Summary(Content):
    boundary_differences: Annotated[
        Text,
        Ask(
            "Boundary differences",
            words="Identify any differences between LA and CCG boundaries and how these have "
            "been addressed in the plan",
            needed=True,
            lines=5,
        ),
    ] = ""


class Answer(Content):
    """A narrative part: one answer to the template's question."""

    asks_heading = True

    text: Annotated[Text, Ask("Your answer", needed=True)] = ""


class Document(Content):
    named_by: ClassVar[str] = "title"
    title: Annotated[ShortText, Ask("Title")] = ""
    url: Annotated[Link, Ask("Web address")] = ""


class RelatedDocuments(Content):
    rows: list[Document] = Field(default_factory=list, max_length=ROW_LIMIT)


class ProtectingSocialCare(Content):
    local_definition: Annotated[
        Text,
        Ask(
            "Local definition",
            words="Please outline your agreed local definition of protecting social care services.",
            needed=True,
        ),
    ] = ""
    how_protected: Annotated[
        Text,
        Ask(
            "How social care services will be protected",
            words="Please explain how local social care services will be protected within your "
            "plans.",
            needed=True,
        ),
    ] = ""


class SevenDayServices(Content):
    strategic_commitment: Annotated[
        Text,
        Ask(
            "Strategic commitment",
            words="Please provide evidence of strategic commitment to providing seven-day health "
            "and social care services across the local health economy at a joint leadership "
            "level (Joint Health and Wellbeing Strategy)",
            needed=True,
        ),
    ] = ""
    local_plans: Annotated[
        Text,
        Ask(
            "Local plans",
            words="Please describe your agreed local plans for implementing seven day services "
            "in health and social care to support patients being discharged and prevent "
            "unnecessary admissions at weekends.",
            needed=True,
        ),
    ] = ""


class DataSharing(Content):
    nhs_number_used: Annotated[
        YesNo,
        Ask(
            "NHS Number is the primary identifier",
            words="Please confirm that you are using the NHS Number as the primary identifier "
            "for correspondence across all health and care services.",
            needed=True,
        ),
    ] = ""
    nhs_number_commitment: Annotated[
        Text,
        Ask(
            "Commitment to the NHS Number",
            words="If you are not currently using the NHS Number as primary identifier for "
            "correspondence please confirm your commitment that this will be in place and when "
            "by",
            lines=4,
        ),
    ] = ""
    nhs_number_by: Annotated[
        DateAnswer,
        Ask(
            "NHS Number in place by",
            help="The date by which the NHS Number will be the primary identifier.",
        ),
    ] = None
    open_apis: Annotated[
        YesNo,
        Ask(
            "Committed to open APIs and open standards",
            words="Please confirm that you are committed to adopting systems that are based "
            "upon Open APIs and Open Standards (i.e. secure email standards, interoperability "
            "standards (ITK))",
            needed=True,
        ),
    ] = ""
    open_apis_detail: Annotated[Text, Ask("Open APIs and open standards: detail", lines=4)] = ""
    caldicott: Annotated[
        YesNo,
        Ask(
            "Information governance controls in place",
            words="Please confirm that you are committed to ensuring that the appropriate IG "
            "Controls will be in place. These will need to cover NHS Standard Contract "
            "requirements, IG Toolkit requirements, professional clinical practise and in "
            "particular requirements set out in Caldicott2.",
            needed=True,
        ),
    ] = ""
    caldicott_detail: Annotated[Text, Ask("Information governance: detail", lines=4)] = ""

    @classmethod
    def checks(cls, content: dict, year_labels: list[str]) -> list[Check]:
        content = content or {}
        no_date = content.get("nhs_number_used") == "no" and not content.get("nhs_number_by")
        return [
            Check(
                "A date is given if the NHS Number is not yet the primary identifier",
                not no_date,
                "Give the date by which the NHS Number will be the primary identifier."
                if no_date
                else "The NHS Number answer is complete.",
            )
        ]


class JointAssessment(Content):
    confirmation: Annotated[
        Text,
        Ask(
            "Joint assessment and accountable lead professional",
            words="Please confirm that local people at high risk of hospital admission have an "
            "agreed accountable lead professional and that health and social care use a joint "
            "process to assess risk, plan care and allocate a lead professional.",
            needed=True,
            lines=5,
        ),
    ] = ""
    high_risk_percent: Annotated[
        Percent,
        Ask(
            "Proportion of the adult population at high risk of hospital admission, as a "
            "percentage",
            needed=True,
        ),
    ] = None
    risk_stratification: Annotated[
        Text,
        Ask(
            "Approach to risk stratification",
            needed=True,
            lines=5,
        ),
    ] = ""
    joint_care_plan_percent: Annotated[
        Percent,
        Ask(
            "Proportion at risk with a joint care plan and accountable professional, as a "
            "percentage",
            needed=True,
        ),
    ] = None


class Metric(Content):
    named_by: ClassVar[str] = "name"
    name: Annotated[ShortText, Ask("Outcome measure")] = ""
    national: bool = False
    unit: Annotated[
        ShortText,
        Ask("Unit", help="For example: per 100,000 population, %, or number of people"),
    ] = ""
    baseline: Annotated[Number, Ask("Current baseline")] = None
    baseline_date: Annotated[DateAnswer, Ask("Baseline as at")] = None
    projections: Annotated[
        dict[str, Number],
        Ask("projected delivery", words="Projected delivery (full year?)", per="year"),
    ] = Field(default_factory=dict)

    @classmethod
    def national_needs(cls, year_labels: list[str]) -> list[Cell]:
        """What a national measure needs before its part is complete and the plan is ready:
        every cell but the measure's own name and unit (its baseline, its date, each year's
        projection)."""
        return [cell for cell in cells(cls, year_labels) if cell.name not in ("name", "unit")]


class Metrics(Content):
    outcomes: Annotated[
        Text,
        Ask(
            "Expected outcomes and benefits",
            words="Please provide details of the expected outcomes and benefits of the scheme "
            "and how these will be measured.",
            needed=True,
        ),
    ] = ""
    rows: list[Metric] = Field(default_factory=list, max_length=ROW_LIMIT)

    @classmethod
    def rows_shown(cls, content: dict) -> list[dict]:
        """The five national measures always come first, in the template's order, whatever
        was stored; then the local ones."""
        rows = super().rows_shown(content)
        by_name = {row.get("name"): row for row in rows if row.get("national")}
        blank = {"unit": "", "baseline": "", "baseline_date": ""}
        nationals = [
            {**by_name.get(name, {"name": name, **blank}), "national": True}
            for name in NATIONAL_METRICS
        ]
        return nationals + [row for row in rows if not row.get("national")]

    @classmethod
    def checks(cls, content: dict, year_labels: list[str]) -> list[Check]:
        needs = Metric.national_needs(year_labels)
        missing = [
            row["name"]
            for row in cls.rows_shown(content)[: len(NATIONAL_METRICS)]
            if any(cell.value(row) in ("", None) for cell in needs)
        ]
        return [
            Check(
                "Every national metric has a baseline, its date and projections",
                not missing,
                f"Give a baseline, its date and projections for: {', '.join(missing)}."
                if missing
                else "Every national metric has a baseline, its date and projections.",
            )
        ]


class Contribution(Content):
    organisation: int
    organisation_name: Recorded = ""
    stream: Literal[tuple(FundingStream.values)]
    year: str
    amount: Annotated[Decimal, Field(ge=0, le=LIMIT, decimal_places=2), PlainSerializer(str)]

    @field_validator("year")
    @classmethod
    def _a_year_of_the_plan(cls, value: str, info: ValidationInfo) -> str:
        periods = (info.context or {}).get("periods")
        if periods and value not in periods["year"]:
            raise ValueError(f"{value} is not a year of this plan")
        return value


class Contributions(Content):
    note: Annotated[
        Text,
        Ask(
            "Notes on these figures",
            help="Where the figures come from, and anything a reader should know about them.",
            lines=4,
        ),
    ] = ""
    amounts: list[Contribution] = Field(default_factory=list, max_length=10_000)


class Arrangements(Content):
    host_partner: Annotated[PartnerId, Ask("Host partner", needed=True)] = None
    host_partner_name: Recorded = ""
    fund_manager: Annotated[
        ShortText, Ask("Pooled fund manager", help="Name and job title.", needed=True)
    ] = ""
    risk_share_basis: Annotated[
        _choice(RiskShareBasis),
        Ask(
            "How are over- and under-spends shared?",
            needed=True,
            choices=RiskShareBasis,
            radios=True,
        ),
    ] = RiskShareBasis.PROPORTIONAL
    materiality_threshold: Annotated[Money, Ask("Materiality threshold for changes (a year)")] = (
        None
    )
    notice_days: Annotated[
        Days, Ask("Working days to notify partners of an over- or under-spend")
    ] = None
    share_names: dict[str, Recorded] = Field(default_factory=dict)
    shares: dict[str, Percent] = Field(default_factory=dict)


class Scheme(Content):
    named_by: ClassVar[str] = "name"
    name: Annotated[ShortText, Ask("Scheme")] = ""
    scheme_type: Annotated[_choice(SchemeType), Ask("Scheme type", choices=SchemeType)] = ""
    scheme_type_other: Annotated[
        ShortText, Ask("If other, describe the type", other_of="scheme_type")
    ] = ""
    lead_commissioner: Annotated[PartnerId, Ask("Lead commissioner")] = None
    lead_commissioner_name: Recorded = ""
    provider: Annotated[ShortText, Ask("Provider")] = ""
    stream: Annotated[_choice(FundingStream), Ask("Funding stream", choices=FundingStream)] = ""
    outcomes: Annotated[Text, Ask("Outcomes it supports", lines=2)] = ""
    income: Annotated[
        Flag, Ask("Income line", help="An income line reduces net spend.", negates="spend")
    ] = False
    spend: Annotated[dict[str, Money], Ask("spend", per="year")] = Field(default_factory=dict)
    benefits: Annotated[dict[str, Money], Ask("benefits", per="year")] = Field(default_factory=dict)

    overview = ("name", "scheme_type", "lead_commissioner", "stream", "spend", "benefits")


class Schemes(Content):
    rows: list[Scheme] = Field(default_factory=list, max_length=ROW_LIMIT)


class LineAmounts(Content):
    spend: dict[str, Money] = Field(default_factory=dict)
    benefits: dict[str, Money] = Field(default_factory=dict)


class HealthSpend(Content):
    # The heading of the table's first column, the commissioner each line is for.
    line_heading: ClassVar[str] = "Organisation"
    note: Annotated[Text, Ask("Notes on these figures", lines=3)] = ""
    lines: dict[str, LineAmounts] = Field(default_factory=dict)
    line_labels: dict[str, Recorded] = Field(default_factory=dict)


class ContingencyRow(Content):
    named_by: ClassVar[str] = "outcome"
    outcome: Annotated[ShortText, Ask("Outcome")] = ""
    savings: Annotated[
        dict[str, Money],
        Ask(
            "planned savings",
            words="Planned savings (if targets fully achieved)",
            per="last year and ongoing",
        ),
    ] = Field(default_factory=dict)
    support: Annotated[
        dict[str, Money],
        Ask(
            "maximum support needed",
            words="Maximum support needed for other services (if targets not achieved)",
            per="last year and ongoing",
        ),
    ] = Field(default_factory=dict)


class Contingency(Content):
    plan_text: Annotated[
        Text,
        Ask(
            "How services will be maintained if the planned improvements are not achieved",
            needed=True,
            lines=5,
        ),
    ] = ""
    rows: list[ContingencyRow] = Field(default_factory=list, max_length=ROW_LIMIT)


class Risk(Content):
    named_by: ClassVar[str] = "description"
    description: Annotated[Text, Ask("Risk", lines=3)] = ""
    impact: Annotated[_choice(Rating), Ask("Impact", choices=Rating)] = ""
    probability: Annotated[_choice(Rating), Ask("Probability", choices=Rating)] = ""
    mitigation: Annotated[Text, Ask("Mitigating Actions", lines=3)] = ""
    owner: Annotated[ShortText, Ask("Owner")] = ""
    affects_nhs_providers: Annotated[Flag, Ask("Affects NHS service providers")] = False

    derived = (
        Derived(
            "Risk Rating",
            after="probability",
            value=lambda row: risk_rating(row.get("impact"), row.get("probability")),
        ),
    )
    overview = ("description", "impact", "probability", "Risk Rating", "owner")


class Risks(Content):
    rows: list[Risk] = Field(default_factory=list, max_length=ROW_LIMIT)


# ---- The parts, in template order -----------------------------------------------------------

WEB, WORKBOOK, PDF = "web", "workbook", "pdf"


@dataclass(frozen=True)
class PartSpec:
    key: PartKey
    title: str  # the template's heading, where it has one
    group: str  # where the template puts it (the task list's groups)
    words: str  # the template's question, or the portal's where the template has none
    content: type[Content]
    points: tuple[str, ...] = ()  # the template's guidance points under its question
    number: str = ""  # the national conditions are numbered in the template
    edit_permission: str = EDIT_PLAN  # the permission codename that may change the part
    row_label: str = ""  # what one row of the part's table is called
    help: str = ""  # plain English beside the template's words
    in_template: bool = True  # False for the portal's own parts the template has no cell for
    titled: bool = True  # the template prints this heading (else the title is the portal's)
    sheet: str = ""  # the workbook sheet that holds it (its group's name when not given)
    # Its content is kept in the pooled fund's tables (`finance.fund`), so it is saved through
    # `finance.services.part_save`.
    in_tables: bool = False
    table_title: str = ""  # the heading of its table of rows, where not its title
    # Where the part is deliberately not shown, and why: {WORKBOOK: "reason"}.
    left_out: dict = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return f"{self.number} {self.title}" if self.number else self.title

    @property
    def sheet_name(self) -> str:
        return self.sheet or self.group

    @property
    def table_heading(self) -> str:
        return self.table_title or self.title

    @property
    def questions(self) -> tuple[Question, ...]:
        return questions(self.content)

    @property
    def row_model(self) -> type[Content] | None:
        rows = self.content.model_fields.get("rows")
        return rows.annotation.__args__[0] if rows is not None and rows.annotation else None


NARRATIVE = "Narrative"
CONDITIONS = "National Conditions"
FUND = "Finance"

PARTS: list[PartSpec] = [
    PartSpec(
        PartKey.SUMMARY,
        "Plan summary",
        "Plan summary",
        "",
        Summary,
        help="The local authority and CCGs come from the area. Dates and pooled budget values "
        "are filled in by the sign-off and finance parts.",
        titled=False,
        sheet="Cover",
    ),
    PartSpec(
        PartKey.PROVIDER_ENGAGEMENT,
        "Service provider engagement",
        NARRATIVE,
        "Please describe how health and social care providers have been involved in the "
        "development of this plan, and the extent to which they are party to it.",
        Answer,
    ),
    PartSpec(
        PartKey.PUBLIC_ENGAGEMENT,
        "Patient, service user and public engagement",
        NARRATIVE,
        "Please describe how patients, service users and the public have been involved in the "
        "development of this plan, and the extent to which they are party to it.",
        Answer,
    ),
    PartSpec(
        PartKey.RELATED_DOCUMENTS,
        "Related documentation",
        NARRATIVE,
        "Please include information links to any related documents such as the full project "
        "plan for the scheme, and documents related to each national condition",
        RelatedDocuments,
        row_label="Document",
    ),
    PartSpec(
        PartKey.VISION,
        "Vision for Health and Care Services",
        NARRATIVE,
        "Please describe the vision for health and social care services for this community "
        "for 2018/19.",
        Answer,
        points=(
            "What changes will have been delivered in the pattern and configuration of services "
            "over the next five years?",
            "What difference will this make to patient and service user outcomes?",
        ),
    ),
    PartSpec(
        PartKey.AIMS,
        "Integration Aims & Objectives",
        NARRATIVE,
        "Please describe your overall aims and objectives for integrated care and provide "
        "information on how the integration transformation fund will secure improved outcomes "
        "in health and care in your area. Suggested points to cover:",
        Answer,
        points=(
            "What are the aims and objectives of your integrated system?",
            "How will you measure these aims and objectives?",
            "What measures of health gain will you apply to your population?",
        ),
    ),
    PartSpec(
        PartKey.PLANNED_CHANGES,
        "Description of Planned Changes",
        NARRATIVE,
        "Please provide an overview of the schemes and changes covered by your joint work "
        "programme, including:",
        Answer,
        points=(
            "The key success factors including an outline of processes, end points and time "
            "frames for delivery",
            "How you will ensure other related activity will align, including the JSNA, JHWS, "
            "CCG commissioning plan/s and Local Authority plan/s for social care",
        ),
    ),
    PartSpec(
        PartKey.ACUTE_SECTOR,
        "Implications for the Acute Sector",
        NARRATIVE,
        "Set out the implications of the plan on the delivery of NHS services including clearly "
        "identifying where any NHS savings will be realised and the risk of the savings not "
        "being realised. You must clearly quantify the impact on NHS service delivery targets "
        "including in the scenario of the required savings not materialising. The details of "
        "this response must be developed with the relevant NHS providers.",
        Answer,
    ),
    PartSpec(
        PartKey.GOVERNANCE,
        "Governance",
        NARRATIVE,
        "Please provide details of the arrangements are in place for oversight and governance "
        "for progress and outcomes",
        Answer,
    ),
    PartSpec(
        PartKey.PROTECTING_SOCIAL_CARE,
        "Protecting social care services",
        CONDITIONS,
        "",
        ProtectingSocialCare,
        help=(
            "Please outline your agreed local definition of protecting social care services, and "
            "explain how local social care services will be protected within your plans."
        ),
        number="1",
    ),
    PartSpec(
        PartKey.SEVEN_DAY_SERVICES,
        "7-day services to support discharge",
        CONDITIONS,
        "",
        SevenDayServices,
        help=(
            "Seven-day health and social care services, to support patients being discharged and "
            "prevent unnecessary admissions at weekends."
        ),
        number="2",
    ),
    PartSpec(
        PartKey.DATA_SHARING,
        "Data-sharing",
        CONDITIONS,
        "",
        DataSharing,
        help=(
            "The NHS Number as the primary identifier, open APIs and open standards, and "
            "information governance controls."
        ),
        number="3",
    ),
    PartSpec(
        PartKey.JOINT_ASSESSMENT,
        "Joint-assessments and accountable lead professional",
        CONDITIONS,
        "Please specify what proportion of the adult population are identified as at high risk "
        "of hospital admission, what approach to risk stratification you have used to identify "
        "them, and what proportion of individuals at risk have a joint care plan and accountable "
        "professional.",
        JointAssessment,
        number="4",
    ),
    PartSpec(
        PartKey.METRICS,
        "Outcomes and metrics",
        "Outcomes and metrics",
        "Please provide details of the expected outcomes and benefits of the scheme and how "
        "these will be measured.",
        Metrics,
        table_title="Outcome measures",
        points=(
            "The five national measures are always included; add any local measures. National "
            "metrics remain subject to confirmation.",
        ),
        row_label="Measure",
    ),
    PartSpec(
        PartKey.CONTRIBUTIONS,
        "Pooled fund contributions",
        FUND,
        "What each partner puts into the pooled fund, by funding stream and year. Totals are "
        "worked out for you: the pooled budget is the sum of the contributions.",
        Contributions,
        edit_permission=EDIT_FINANCE,
        in_tables=True,
        in_template=False,
        sheet="Pooled fund contributions",
    ),
    PartSpec(
        PartKey.ARRANGEMENTS,
        "Pooled fund arrangements",
        FUND,
        "The host partner and pooled fund manager (section 75), how over- and under-spends are "
        "shared, the materiality threshold for changes, and how quickly partners are told of an "
        "over- or under-spend.",
        Arrangements,
        edit_permission=EDIT_FINANCE,
        in_tables=True,
        in_template=False,
        sheet="Pooled fund arrangements",
    ),
    PartSpec(
        PartKey.SCHEMES,
        "ITF Investment",
        FUND,
        "Please summarize where your pooled budget will be spent. NB the total must be equal to "
        "or more than your total ITF allocation",
        Schemes,
        edit_permission=EDIT_FINANCE,
        in_tables=True,
        row_label="Scheme",
        sheet="Pooled budget schemes",
    ),
    PartSpec(
        PartKey.SPEND,
        "Health and care spend",
        FUND,
        "Please summarize the total health and care spend for each commissioner in your area.",
        HealthSpend,
        edit_permission=EDIT_FINANCE,
        in_tables=True,
        titled=False,
        sheet="Health and care spend",
    ),
    PartSpec(
        PartKey.CONTINGENCY,
        "Contingency plan",
        FUND,
        "Approximately 25% of the ITF is paid for improving outcomes. If the planned improvements "
        "are not achieved, some of this funding may need to be used to alleviate the pressure on "
        "other services. Please outline your plan for maintaining services if planned "
        "improvements are not achieved.",
        Contingency,
        edit_permission=EDIT_FINANCE,
        in_tables=True,
        row_label="Outcome",
        sheet="Contingency plan",
    ),
    PartSpec(
        PartKey.RISKS,
        "Key Risks",
        "Key Risks",
        "Please provide details of the most important risks and your plans to mitigate them. "
        "This should include risks associated with the impact on NHS service providers",
        Risks,
        row_label="Risk",
        sheet="Key risks",
    ),
]
PART_BY_KEY: dict[str, PartSpec] = {spec.key: spec for spec in PARTS}
# The choices of `Part.key`: every part, under its title.
PART_CHOICES = [(spec.key.value, spec.title) for spec in PARTS]


@dataclass(frozen=True)
class CoverWords:
    """The template's Cover after the partners, and its sign-off block, in its own words: the
    plan summary's page, the workbook's Cover and the paper all read them from here."""

    hwb_agreed_on: str = "Date agreed at Health and Well-Being Board"
    submitted_on: str = "Date submitted"
    minimum: str = "Minimum required value of ITF pooled budget"
    total: str = "Total agreed value of pooled budget"
    signed_for_ccg: str = "Signed on behalf of the Clinical Commissioning Group"
    signed_for_la: str = "Signed on behalf of the Local Authority"
    signed_for_board: str = "Signed on behalf of the Health & Wellbeing Board"


COVER = CoverWords()


# The template's commissioner lines of "the total health and care spend for each commissioner":
# (key, row label, whose sub-total it counts towards). "ccg" stands for one line per CCG.
SPEND_LINES = [
    ("la_social_services", "Local Authority Social Services", "council"),
    ("ccg", "CCG", "ccg"),
    ("primary_care", "Primary Care", "NHS England"),
    ("specialised", "Specialised commissioning", "NHS England"),
    ("la_public_health", "Local Authority Public Health", "council"),
]


def spend_lines_for(council: str, ccgs: list[tuple[int, str]]) -> list[dict]:
    """The commissioner lines for an area's partners: each line names the organisation whose
    sub-total it counts towards; a CCG's line is named after the CCG."""
    lines = []
    for key, label, whose in SPEND_LINES:
        if key == "ccg":
            lines += [
                {"key": f"ccg_{pk}", "label": name, "organisation": name} for pk, name in ccgs
            ]
        else:
            organisation = council if whose == "council" else whose
            lines.append({"key": key, "label": label, "organisation": organisation})
    return lines


def periods(year_labels: list[str]) -> dict[str, list[str]]:
    """The periods a per-year field is keyed by, for a round with these years."""
    return {"year": list(year_labels), "last year and ongoing": [year_labels[-1], "ongoing"]}


def content_check(key: str, content: dict, year_labels: list[str] | None = None) -> dict:
    """The part's content as stored, if it fits the part's description; else ContentError.
    Every write of a part passes here, whoever calls it: the form, the importer, a restore, the
    shell."""
    spec = PART_BY_KEY[key]
    context = {"periods": periods(year_labels)} if year_labels else None
    model = spec.content.model_validate(content or {}, context=context)
    length = text_length(model)
    if length > PART_TEXT_LIMIT:
        raise ContentError.from_exception_data(
            spec.content.__name__,
            [
                {
                    "type": PydanticCustomError(
                        "part_too_long",
                        "its answers hold {length} characters of text, and the most one part "
                        "can hold is {limit} (about 40 printed pages): shorten some of them",
                        {"length": f"{length:,}", "limit": f"{PART_TEXT_LIMIT:,}"},
                    ),
                    "loc": (),
                    "input": None,
                }
            ],
        )
    return model.model_dump(mode="json")


def text_length(model: BaseModel) -> int:
    """The characters of text a part's answers hold, its rows' included."""
    total = 0
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, BaseModel):
            total += text_length(value)
        elif isinstance(value, list):
            total += sum(text_length(item) for item in value if isinstance(item, BaseModel))
    return total


def content_problems(error: ContentError) -> list[str]:
    """A refusal in words: where in the content, and what is wrong."""
    problems = []
    for item in error.errors():
        if item["type"] == "too_long" and item["loc"] == ("rows",):
            problems.append(
                f"it would have {item['ctx']['actual_length']:,} rows, and the most a part can "
                f"have is {ROW_LIMIT:,}: remove one before adding another"
            )
            continue
        where = ".".join(str(part) for part in item["loc"])
        problems.append(f"{where}: {item['msg']}" if where else item["msg"])
    return problems
