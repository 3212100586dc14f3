"""One description of the submission template: which sheet holds which label and which value.

The Excel writer lays sheets out from this list, the importer reads workbooks back by it and the
PDF follows the same part order, so the three cannot drift apart. Values are read from a plan
snapshot (`governance.signoff.plan_snapshot`): the sealed version when there is one, else the
draft. Each table also says how its cells go back into its part's form (`fields`), so an edited
workbook passes exactly the checks a person typing into the page meets.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from finance.rules import spend_lines
from itf_portal.money import LIMIT, PENNY
from plans.constants import NATIONAL_METRICS, FundingStream, PartKey, Rating, SchemeType, YesNo
from plans.parts import metrics_with_nationals, risk_rating
from plans.template import PARTS, Answer, spend_lines_for

TEXT, YES_NO, NUMBER, MONEY, SIGNED_MONEY, DATE = (
    "text",
    "yes_no",
    "number",
    "money",
    "signed_money",
    "date",
)
AMOUNTS = (MONEY, SIGNED_MONEY)
# The document property that says which export a workbook came from.
EXPORT_PROPERTY = "ITF Portal export"


class CellProblem(ValueError):
    """A cell's value cannot go into the plan; `column` names the table column, if any."""

    def __init__(self, message: str, column: str = ""):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Value:
    """One labelled answer: the label in column A, the value beside it."""

    label: str
    part: str
    key: str
    kind: str = TEXT


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = TEXT
    derived: bool = False  # worked out by the portal: shown grey, never read back
    choices: object = None  # snapshot -> the labels its dropdown offers
    strict: bool = True  # only the dropdown's labels are allowed (else they are suggestions)


@dataclass(frozen=True)
class Table:
    """A table of rows; amount columns get a live SUM total when `total` is set.

    `fields(plan, row, index)` turns one row read back from a workbook into the part form's
    inputs, by column: {column key: [(input name, value), ...]}. A table with `key` columns is a
    grid whose rows are found by those columns; any other table's rows are found by position.
    """

    title: str
    part: str
    rows: object  # snapshot -> list of dicts keyed by the columns' keys
    columns: list[Column]
    fields: object  # (plan, row, index) -> {column key: [(input name, value)]}
    key: tuple[str, ...] = ()
    total: bool = False


@dataclass(frozen=True)
class Sheet:
    name: str
    items: list = field(default_factory=list)


def printable(text: str) -> str:
    """Text a workbook can hold: XML forbids most control characters. Word's line break (a
    vertical tab) becomes a new line; the others are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", text.replace("\x0b", "\n"))


def normal(kind: str, raw):
    """A cell's value as the plan holds it, the same for a snapshot's value and a workbook's
    cell, so the two compare equal when nobody changed it. Raises CellProblem when it cannot
    be that kind of value."""
    if raw is None:
        raw = ""
    if isinstance(raw, str):
        raw = raw.replace("\r\n", "\n").strip() if kind != TEXT else raw.replace("\r\n", "\n")
    if kind in (NUMBER, *AMOUNTS):
        return _amount(kind, raw)
    if kind == YES_NO:
        if isinstance(raw, bool):
            return "Yes" if raw else "No"
        text = str(raw).strip().capitalize()
        if text not in ("", "Yes", "No"):
            raise CellProblem("Enter Yes or No.")
        return text
    if kind == DATE:
        return _date(raw)
    if isinstance(raw, datetime):
        raw = raw.date() if raw.time() == datetime.min.time() else raw
    if isinstance(raw, (date, datetime)):
        return raw.isoformat()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return printable(str(raw))


def _amount(kind: str, raw):
    if raw == "":
        return Decimal(0) if kind in AMOUNTS else ""
    if isinstance(raw, (bool, date, datetime)):
        raise CellProblem("Enter a number, like 1250 or 12.5.")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise CellProblem("Enter a number, like 1250 or 12.5.")
        raw = repr(raw)
    text = str(raw).strip().replace(",", "").replace("£", "")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellProblem("Enter a number, like 1250 or 12.5.") from None
    if not value.is_finite():
        raise CellProblem("Enter a number, like 1250 or 12.5.")
    low = Decimal(0) if kind == MONEY else -LIMIT
    if value < low:
        raise CellProblem("Enter an amount of 0 or more.")
    if value > LIMIT or value < -LIMIT:
        raise CellProblem(f"Enter an amount of £{LIMIT:,} or less.")
    if kind in AMOUNTS or value.as_tuple().exponent < -2:
        # A spreadsheet's own arithmetic leaves float noise (0.30000000000000004): pennies are
        # kept, anything finer that is not noise is refused.
        if abs(value - value.quantize(PENNY)) > Decimal("0.000001"):
            raise CellProblem("Use no more than 2 decimal places.")
        value = value.quantize(PENNY)
    return value


def _date(raw) -> str:
    if raw == "":
        return ""
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = str(raw).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise CellProblem("Enter a real date, like 31/03/2015.")


def _post_amount(value) -> str:
    return "" if value in ("", None) else str(value)


def _post_yes_no(value: str) -> str:
    return {"Yes": YesNo.YES, "No": YesNo.NO}.get(value, "")


def post_value(kind: str, value) -> str:
    """A normal value as the part's form expects it posted."""
    if kind == YES_NO:
        return _post_yes_no(value)
    if kind in (NUMBER, *AMOUNTS):
        return _post_amount(value)
    return value


def _partner(plan, name: str, column: str):
    found = next((o for o in plan.partner_organisations if o.name == name.strip()), None)
    if found is None:
        raise CellProblem(f"“{name}” is not a partner in this plan.", column)
    return found


def _choice(choices, label: str, column: str, what: str) -> str:
    found = next((value for value, text in choices.choices if text == label.strip()), None)
    if found is None:
        raise CellProblem(f"“{label}” is not a {what} the template knows.", column)
    return found


def _content(snapshot: dict, part: str) -> dict:
    return ((snapshot.get("parts") or {}).get(part) or {}).get("content") or {}


def _years(snapshot: dict) -> list[str]:
    return snapshot["round"]["years"]


def contribution_rows(snapshot: dict) -> list[dict]:
    """A row for every partner and funding stream (so any cell can be filled in), then any
    amounts kept from a former partner."""
    years = _years(snapshot)
    grid: dict = {
        (partner["id"], stream.value): {"partner": partner["name"], "stream": stream.label}
        for partner in snapshot.get("partners", [])
        for stream in FundingStream
    }
    for entry in _content(snapshot, PartKey.CONTRIBUTIONS).get("amounts", []):
        key = (entry["organisation"], entry["stream"])
        row = grid.setdefault(
            key,
            {
                "partner": entry.get("organisation_name", ""),
                "stream": FundingStream(entry["stream"]).label,
            },
        )
        row[entry["year"]] = Decimal(entry["amount"])
    return [{**row, **{year: row.get(year, Decimal(0)) for year in years}} for row in grid.values()]


def contribution_fields(plan, row: dict, index: int) -> dict:
    partner = _partner(plan, row["partner"], "partner")
    stream = _choice(FundingStream, row["stream"], "stream", "funding stream")
    return {
        year: [(f"amount_{partner.pk}_{stream}_{number}", _post_amount(row[year]))]
        for number, year in enumerate(plan.round.year_labels)
    }


OTHER_TYPE = "Other: "


def _scheme_type(row: dict) -> str:
    """The type's label, or "Other: " and the scheme's own description of it."""
    scheme_type = row.get("scheme_type")
    if scheme_type == SchemeType.OTHER:
        return OTHER_TYPE + row.get("scheme_type_other", "")
    return SchemeType(scheme_type).label if scheme_type else ""


def scheme_rows(snapshot: dict) -> list[dict]:
    rows = []
    for row in _content(snapshot, PartKey.SCHEMES).get("rows", []):
        sign = -1 if row.get("income") else 1
        rows.append(
            {
                "name": row.get("name", ""),
                "type": _scheme_type(row),
                "lead": row.get("lead_commissioner_name", ""),
                "provider": row.get("provider", ""),
                "stream": FundingStream(row["stream"]).label if row.get("stream") else "",
                "outcomes": row.get("outcomes", ""),
                "income": "Yes" if row.get("income") else "No",
                **{
                    f"spend {year}": sign * Decimal((row.get("spend") or {}).get(year) or "0")
                    for year in _years(snapshot)
                },
                **{
                    f"benefits {year}": Decimal((row.get("benefits") or {}).get(year) or "0")
                    for year in _years(snapshot)
                },
            }
        )
    return rows


def scheme_fields(plan, row: dict, index: int) -> dict:
    prefix = f"rows-{index}-"
    labels = {label: value for value, label in SchemeType.choices if value != SchemeType.OTHER}
    scheme_type, other = row["type"].strip(), ""
    if scheme_type.startswith(OTHER_TYPE.strip()):
        kind, other = SchemeType.OTHER, scheme_type[len(OTHER_TYPE.strip()) :].strip()
    elif scheme_type and scheme_type not in labels:
        raise CellProblem(
            f"“{scheme_type}” is not a scheme type. Use one of: {'; '.join(labels)}; or "
            "“Other: ” and your own description.",
            "type",
        )
    else:
        kind = labels.get(scheme_type, "")
    income = row["income"] == "Yes"
    lead = _partner(plan, row["lead"], "lead").pk if row["lead"].strip() else ""
    stream = (
        _choice(FundingStream, row["stream"], "stream", "funding stream")
        if row["stream"].strip()
        else ""
    )
    fields = {
        "name": [(prefix + "name", row["name"])],
        "type": [
            (prefix + "scheme_type", kind),
            (prefix + "scheme_type_other", other),
        ],
        "lead": [(prefix + "lead_commissioner", str(lead))],
        "provider": [(prefix + "provider", row["provider"])],
        "stream": [(prefix + "stream", stream)],
        "outcomes": [(prefix + "outcomes", row["outcomes"])],
        "income": [(prefix + "income", "on" if income else "")],
    }
    for number, year in enumerate(plan.round.year_labels):
        spend = row[f"spend {year}"]
        if spend < 0 and not income:
            raise CellProblem(
                "Spend must be 0 or more; an income line (shown as a negative amount) needs "
                "“Yes” in its Income line column.",
                f"spend {year}",
            )
        if spend > 0 and income:
            raise CellProblem(
                "An income line's amount is negative: enter -5,000 for £5,000 of income, or "
                "“No” in its Income line column for spend.",
                f"spend {year}",
            )
        fields[f"spend {year}"] = [(f"{prefix}spend_{number}", _post_amount(abs(spend)))]
        fields[f"benefits {year}"] = [
            (f"{prefix}benefits_{number}", _post_amount(row[f"benefits {year}"]))
        ]
    return fields


def scheme_type_labels(snapshot: dict) -> list[str]:
    return [label for value, label in SchemeType.choices if value != SchemeType.OTHER]


def partner_names(snapshot: dict) -> list[str]:
    return [partner["name"] for partner in snapshot.get("partners", [])]


def stream_labels(snapshot: dict) -> list[str]:
    return [label for _, label in FundingStream.choices]


def rating_labels(snapshot: dict) -> list[str]:
    return [label for _, label in Rating.choices]


def metric_rows(snapshot: dict) -> list[dict]:
    """The national measures first, in the template's order, then the local ones, in the order
    the part's form shows them (so rows are matched by position on import)."""
    rows = []
    for row in metrics_with_nationals(_content(snapshot, PartKey.METRICS).get("rows", [])):
        rows.append(
            {
                "name": row.get("name", ""),
                "unit": row.get("unit", ""),
                "baseline": row.get("baseline", ""),
                "baseline_date": row.get("baseline_date", ""),
                **{
                    f"projection {year}": (row.get("projections") or {}).get(year, "")
                    for year in _years(snapshot)
                },
            }
        )
    return rows


def metric_fields(plan, row: dict, index: int) -> dict:
    prefix = f"rows-{index}-"
    if index < len(NATIONAL_METRICS) and row["name"] != NATIONAL_METRICS[index]:
        raise CellProblem(
            f"The first {len(NATIONAL_METRICS)} measures are the national ones, in the "
            f"template's order: this row is “{NATIONAL_METRICS[index]}”.",
            "name",
        )
    return {
        "name": [(prefix + "name", row["name"])],
        "unit": [(prefix + "unit", row["unit"])],
        "baseline": [(prefix + "baseline", _post_amount(row["baseline"]))],
        "baseline_date": [(prefix + "baseline_date", row["baseline_date"])],
        **{
            f"projection {year}": [
                (f"{prefix}projection_{number}", _post_amount(row[f"projection {year}"]))
            ]
            for number, year in enumerate(plan.round.year_labels)
        },
    }


def risk_rows(snapshot: dict) -> list[dict]:
    ratings = dict(Rating.choices)
    return [
        {
            "description": row.get("description", ""),
            "impact": ratings.get(row.get("impact"), ""),
            "probability": ratings.get(row.get("probability"), ""),
            "rating": risk_rating(row.get("impact"), row.get("probability")),
            "mitigation": row.get("mitigation", ""),
            "owner": row.get("owner", ""),
            "providers": "Yes" if row.get("affects_nhs_providers") else "No",
        }
        for row in _content(snapshot, PartKey.RISKS).get("rows", [])
    ]


def risk_fields(plan, row: dict, index: int) -> dict:
    prefix = f"rows-{index}-"

    def rating(column: str) -> str:
        if not row[column].strip():
            return ""
        return _choice(Rating, row[column].capitalize(), column, "rating (High, Medium or Low)")

    return {
        "description": [(prefix + "description", row["description"])],
        "impact": [(prefix + "impact", rating("impact"))],
        "probability": [(prefix + "probability", rating("probability"))],
        "mitigation": [(prefix + "mitigation", row["mitigation"])],
        "owner": [(prefix + "owner", row["owner"])],
        "providers": [
            (prefix + "affects_nhs_providers", "on" if row["providers"] == "Yes" else "")
        ],
    }


def _spend_years(snapshot_round: dict) -> list[str]:
    return [snapshot_round.get("baseline", ""), *snapshot_round["years"]]


def spend_rows(snapshot: dict) -> list[dict]:
    """A row for every commissioner line of the plan's partners, then any other stored line."""
    content = _content(snapshot, PartKey.SPEND)
    partners = snapshot.get("partners", [])
    council = next((p["name"] for p in partners if p["kind"] == "la"), "")
    lines = {
        line["key"]: line["label"]
        for line in spend_lines_for(
            council, [(p["id"], p["name"]) for p in partners if p["kind"] != "la"]
        )
    }
    for key, label in content.get("line_labels", {}).items():
        lines.setdefault(key, label)
    stored = content.get("lines", {})
    rows = []
    for key, label in lines.items():
        values = stored.get(key, {})
        row = {"line": label}
        for year in _spend_years(snapshot["round"]):
            for what in ("spend", "benefits"):
                row[f"{what} {year}"] = Decimal((values.get(what) or {}).get(year) or "0")
        rows.append(row)
    return rows


def spend_fields(plan, row: dict, index: int) -> dict:
    line = next((line for line in spend_lines(plan) if line["label"] == row["line"].strip()), None)
    if line is None:
        raise CellProblem(f"“{row['line']}” is not a commissioner line of this plan.", "line")
    years = [plan.round.baseline_label, *plan.round.year_labels]
    return {
        f"{what} {year}": [(f"{line['key']}_{what}_{number}", _post_amount(row[f"{what} {year}"]))]
        for number, year in enumerate(years)
        for what in ("spend", "benefits")
    }


def contingency_rows(snapshot: dict) -> list[dict]:
    last = _years(snapshot)[-1]
    return [
        {
            "outcome": row.get("outcome", ""),
            **{
                f"{what} {period}": Decimal((row.get(what) or {}).get(period) or "0")
                for what in ("savings", "support")
                for period in (last, "ongoing")
            },
        }
        for row in _content(snapshot, PartKey.CONTINGENCY).get("rows", [])
    ]


def contingency_fields(plan, row: dict, index: int) -> dict:
    prefix = f"rows-{index}-"
    last = plan.round.year_labels[-1]
    return {
        "outcome": [(prefix + "outcome", row["outcome"])],
        **{
            f"{what} {period}": [
                (f"{prefix}{what}_{number}", _post_amount(row[f"{what} {period}"]))
            ]
            for what in ("savings", "support")
            for number, period in enumerate((last, "ongoing"))
        },
    }


# The narrative parts, each under its heading from the description.
NARRATIVE = [(spec.title, spec.key) for spec in PARTS if spec.content is Answer]

NATIONAL_CONDITIONS = [
    (
        "Protecting social care services: local definition",
        PartKey.PROTECTING_SOCIAL_CARE,
        "local_definition",
        TEXT,
    ),
    (
        "How social care services will be protected",
        PartKey.PROTECTING_SOCIAL_CARE,
        "how_protected",
        TEXT,
    ),
    (
        "7-day services: strategic commitment",
        PartKey.SEVEN_DAY_SERVICES,
        "strategic_commitment",
        TEXT,
    ),
    ("7-day services: local plans", PartKey.SEVEN_DAY_SERVICES, "local_plans", TEXT),
    ("NHS Number is the primary identifier", PartKey.DATA_SHARING, "nhs_number_used", YES_NO),
    ("Commitment to the NHS Number", PartKey.DATA_SHARING, "nhs_number_commitment", TEXT),
    ("NHS Number in place by", PartKey.DATA_SHARING, "nhs_number_by", DATE),
    ("Committed to open APIs and open standards", PartKey.DATA_SHARING, "open_apis", YES_NO),
    ("Open APIs and open standards: detail", PartKey.DATA_SHARING, "open_apis_detail", TEXT),
    ("Information governance in line with Caldicott 2", PartKey.DATA_SHARING, "caldicott", YES_NO),
    ("Information governance: detail", PartKey.DATA_SHARING, "caldicott_detail", TEXT),
    (
        "Joint assessment and accountable lead professional",
        PartKey.JOINT_ASSESSMENT,
        "confirmation",
        TEXT,
    ),
    (
        "% of adults at high risk of hospital admission",
        PartKey.JOINT_ASSESSMENT,
        "high_risk_percent",
        NUMBER,
    ),
    ("Risk-stratification approach", PartKey.JOINT_ASSESSMENT, "risk_stratification", TEXT),
    (
        "% of those at high risk with a joint care plan and accountable professional",
        PartKey.JOINT_ASSESSMENT,
        "joint_care_plan_percent",
        NUMBER,
    ),
]


def sheets(years: list[str], baseline: str = "") -> list[Sheet]:
    """The template's sheets for a round with these years."""
    spend_years = [baseline, *years] if baseline else years
    last = years[-1]
    return [
        Sheet("Checklist"),
        Sheet("Cover", [Value("Boundary differences", PartKey.SUMMARY, "boundary_differences")]),
        Sheet("Narrative", [Value(label, part, "text") for label, part in NARRATIVE]),
        Sheet("National conditions", [Value(*condition) for condition in NATIONAL_CONDITIONS]),
        Sheet(
            "Outcomes and metrics",
            [
                Value("Expected outcomes and benefits", PartKey.METRICS, "outcomes"),
                Table(
                    "Outcome measures",
                    PartKey.METRICS,
                    metric_rows,
                    [
                        Column("Measure", "name"),
                        Column("Unit", "unit"),
                        Column("Current baseline", "baseline", NUMBER),
                        Column("Baseline as at", "baseline_date", DATE),
                        *(
                            Column(f"{year} projected", f"projection {year}", NUMBER)
                            for year in years
                        ),
                    ],
                    metric_fields,
                ),
            ],
        ),
        Sheet(
            "Pooled fund contributions",
            [
                Table(
                    "Contributions to the pooled fund",
                    PartKey.CONTRIBUTIONS,
                    contribution_rows,
                    [
                        Column("Partner", "partner"),
                        Column("Funding stream", "stream"),
                        *(Column(year, year, MONEY) for year in years),
                    ],
                    contribution_fields,
                    key=("partner", "stream"),
                    total=True,
                )
            ],
        ),
        Sheet(
            "Pooled budget schemes",
            [
                Table(
                    "ITF investment (income lines are negative)",
                    PartKey.SCHEMES,
                    scheme_rows,
                    [
                        Column("Scheme", "name"),
                        # Any other type is written "Other: " and the scheme's own description.
                        Column("Scheme type", "type", choices=scheme_type_labels, strict=False),
                        Column("Lead commissioner", "lead", choices=partner_names),
                        Column("Provider", "provider"),
                        Column("Funding stream", "stream", choices=stream_labels),
                        Column("Outcomes it supports", "outcomes"),
                        Column("Income line", "income", YES_NO),
                        *(Column(f"{year} spend", f"spend {year}", SIGNED_MONEY) for year in years),
                        *(Column(f"{year} benefits", f"benefits {year}", MONEY) for year in years),
                    ],
                    scheme_fields,
                    total=True,
                )
            ],
        ),
        Sheet(
            "Health and care spend",
            [
                Table(
                    "Total health and care spend for each commissioner",
                    PartKey.SPEND,
                    spend_rows,
                    [
                        Column("Organisation", "line"),
                        *(
                            Column(f"{year} {what}", f"{what} {year}", MONEY)
                            for year in spend_years
                            for what in ("spend", "benefits")
                        ),
                    ],
                    spend_fields,
                    key=("line",),
                    total=True,
                )
            ],
        ),
        Sheet(
            "Contingency plan",
            [
                Value(
                    "Plan for maintaining services if improvements are not achieved",
                    PartKey.CONTINGENCY,
                    "plan_text",
                ),
                Table(
                    "Contingency plan",
                    PartKey.CONTINGENCY,
                    contingency_rows,
                    [
                        Column("Outcome", "outcome"),
                        Column(f"Planned savings {last}", f"savings {last}", MONEY),
                        Column("Planned savings ongoing", "savings ongoing", MONEY),
                        Column(f"Maximum support needed {last}", f"support {last}", MONEY),
                        Column("Maximum support needed ongoing", "support ongoing", MONEY),
                    ],
                    contingency_fields,
                    total=True,
                ),
            ],
        ),
        Sheet(
            "Key risks",
            [
                Table(
                    "Key risks",
                    PartKey.RISKS,
                    risk_rows,
                    [
                        Column("Risk", "description"),
                        Column("Impact", "impact", choices=rating_labels),
                        Column("Probability", "probability", choices=rating_labels),
                        Column("Risk rating", "rating", derived=True),
                        Column("Mitigating actions", "mitigation"),
                        Column("Owner", "owner"),
                        Column("Affects NHS providers", "providers", YES_NO),
                    ],
                    risk_fields,
                )
            ],
        ),
    ]


def value_of(snapshot: dict, item: Value):
    raw = _content(snapshot, item.part).get(item.key, "")
    if item.kind == YES_NO:
        return dict(YesNo.choices).get(raw, "")
    if item.kind == NUMBER and raw not in ("", None):
        return Decimal(str(raw))
    return raw if raw is not None else ""


def in_template_order(specs: list) -> list:
    """Parts (registry specs) in the order the template shows them; a part the template has no
    cell for (related documents, fund arrangements) follows the part before it in `specs`."""
    position: dict = {}
    for sheet in sheets(["year"]):
        for item in sheet.items:
            position.setdefault(item.part, len(position))
    keyed, last = [], -1
    for index, spec in enumerate(specs):
        last = position.get(spec.key, last)
        keyed.append(((last, spec.key not in position, index), spec))
    return [spec for _, spec in sorted(keyed, key=lambda pair: pair[0])]
