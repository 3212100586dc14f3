"""One description of the submission template: which sheet holds which label and which value.

The Excel writer lays sheets out from this list (and the importer and the PDF are to read the
same list), so the three cannot drift apart. Values are read from a plan snapshot
(`governance.signoff.plan_snapshot`): the sealed version when there is one, else the draft.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from finance.constants import FundingStream, SchemeType
from plans.constants import NATIONAL_METRICS, PartKey, Rating, YesNo
from plans.parts import risk_rating

TEXT, YES_NO, NUMBER, MONEY, DATE = "text", "yes_no", "number", "money", "date"


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


@dataclass(frozen=True)
class Table:
    """A table of rows; money and number columns get a live SUM total when `total` is set."""

    title: str
    rows: object  # snapshot -> list of dicts keyed by the columns' keys
    columns: list[Column]
    total: bool = False


@dataclass(frozen=True)
class Sheet:
    name: str
    items: list = field(default_factory=list)


def _content(snapshot: dict, part: str) -> dict:
    return ((snapshot.get("parts") or {}).get(part) or {}).get("content") or {}


def _partner_names(snapshot: dict) -> dict:
    return {p["id"]: p["name"] for p in snapshot.get("partners", [])}


def contribution_rows(snapshot: dict) -> list[dict]:
    years = snapshot["round"]["years"]
    names = _partner_names(snapshot)
    grid: dict = {}
    for entry in _content(snapshot, PartKey.CONTRIBUTIONS).get("amounts", []):
        key = (entry["organisation"], entry["stream"])
        row = grid.setdefault(
            key,
            {
                "partner": names.get(entry["organisation"], entry.get("organisation_name", "")),
                "stream": FundingStream(entry["stream"]).label,
            },
        )
        row[entry["year"]] = Decimal(entry["amount"])
    return [
        {**row, **{year: row.get(year, Decimal(0)) for year in years}}
        for _, row in sorted(grid.items(), key=lambda item: (item[1]["partner"], item[1]["stream"]))
    ]


def scheme_rows(snapshot: dict) -> list[dict]:
    rows = []
    for row in _content(snapshot, PartKey.SCHEMES).get("rows", []):
        sign = -1 if row.get("income") else 1
        scheme_type = row.get("scheme_type")
        rows.append(
            {
                "name": row.get("name", ""),
                "type": row.get("scheme_type_other")
                if scheme_type == SchemeType.OTHER
                else (SchemeType(scheme_type).label if scheme_type else ""),
                "lead": row.get("lead_commissioner_name", ""),
                "provider": row.get("provider", ""),
                "income": "Yes" if row.get("income") else "No",
                **{
                    f"spend {year}": sign * Decimal((row.get("spend") or {}).get(year) or "0")
                    for year in snapshot["round"]["years"]
                },
                **{
                    f"benefits {year}": Decimal((row.get("benefits") or {}).get(year) or "0")
                    for year in snapshot["round"]["years"]
                },
            }
        )
    return rows


def metric_rows(snapshot: dict) -> list[dict]:
    stored = {row.get("name"): row for row in _content(snapshot, PartKey.METRICS).get("rows", [])}
    names = NATIONAL_METRICS + [n for n in stored if n not in NATIONAL_METRICS]
    rows = []
    for name in names:
        row = stored.get(name, {})
        rows.append(
            {
                "name": name,
                "unit": row.get("unit", ""),
                "baseline": row.get("baseline", ""),
                "baseline_date": row.get("baseline_date", ""),
                **{
                    f"projection {year}": (row.get("projections") or {}).get(year, "")
                    for year in snapshot["round"]["years"]
                },
            }
        )
    return rows


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


def spend_rows(snapshot: dict) -> list[dict]:
    content = _content(snapshot, PartKey.SPEND)
    labels = content.get("line_labels", {})
    years = [snapshot["round"].get("baseline", ""), *snapshot["round"]["years"]]
    rows = []
    for key, values in content.get("lines", {}).items():
        row = {"line": labels.get(key, key)}
        for year in years:
            for what in ("spend", "benefits"):
                row[f"{what} {year}"] = Decimal((values.get(what) or {}).get(year) or "0")
        rows.append(row)
    return rows


def contingency_rows(snapshot: dict) -> list[dict]:
    last = snapshot["round"]["years"][-1]
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


NARRATIVE = [
    ("Service provider engagement", PartKey.PROVIDER_ENGAGEMENT),
    ("Patient, service user and public engagement", PartKey.PUBLIC_ENGAGEMENT),
    ("Vision for health and care services", PartKey.VISION),
    ("Integration aims and objectives", PartKey.AIMS),
    ("Description of planned changes", PartKey.PLANNED_CHANGES),
    ("Implications for the acute sector", PartKey.ACUTE_SECTOR),
    ("Governance", PartKey.GOVERNANCE),
]


def sheets(years: list[str], baseline: str = "") -> list[Sheet]:
    """The template's sheets for a round with these years."""
    spend_years = [baseline, *years] if baseline else years
    last = years[-1]
    return [
        Sheet("Checklist"),
        Sheet(
            "Cover",
            [Value("Boundary differences", PartKey.SUMMARY, "boundary_differences")],
        ),
        Sheet("Narrative", [Value(label, part, "text") for label, part in NARRATIVE]),
        Sheet(
            "National conditions",
            [
                Value(
                    "Protecting social care services: local definition",
                    PartKey.PROTECTING_SOCIAL_CARE,
                    "local_definition",
                ),
                Value(
                    "How social care services will be protected",
                    PartKey.PROTECTING_SOCIAL_CARE,
                    "how_protected",
                ),
                Value(
                    "7-day services: strategic commitment",
                    PartKey.SEVEN_DAY_SERVICES,
                    "strategic_commitment",
                ),
                Value("7-day services: local plans", PartKey.SEVEN_DAY_SERVICES, "local_plans"),
                Value(
                    "NHS Number is the primary identifier",
                    PartKey.DATA_SHARING,
                    "nhs_number_used",
                    YES_NO,
                ),
                Value(
                    "Commitment to the NHS Number", PartKey.DATA_SHARING, "nhs_number_commitment"
                ),
                Value("NHS Number in place by", PartKey.DATA_SHARING, "nhs_number_by", DATE),
                Value(
                    "Committed to open APIs and open standards",
                    PartKey.DATA_SHARING,
                    "open_apis",
                    YES_NO,
                ),
                Value(
                    "Open APIs and open standards: detail", PartKey.DATA_SHARING, "open_apis_detail"
                ),
                Value(
                    "Information governance in line with Caldicott 2",
                    PartKey.DATA_SHARING,
                    "caldicott",
                    YES_NO,
                ),
                Value("Information governance: detail", PartKey.DATA_SHARING, "caldicott_detail"),
                Value(
                    "Joint assessment and accountable lead professional",
                    PartKey.JOINT_ASSESSMENT,
                    "confirmation",
                ),
                Value(
                    "% of adults at high risk of hospital admission",
                    PartKey.JOINT_ASSESSMENT,
                    "high_risk_percent",
                    NUMBER,
                ),
                Value(
                    "Risk-stratification approach", PartKey.JOINT_ASSESSMENT, "risk_stratification"
                ),
                Value(
                    "% of those at high risk with a joint care plan and accountable professional",
                    PartKey.JOINT_ASSESSMENT,
                    "joint_care_plan_percent",
                    NUMBER,
                ),
            ],
        ),
        Sheet(
            "Outcomes and metrics",
            [
                Value("Expected outcomes and benefits", PartKey.METRICS, "outcomes"),
                Table(
                    "Outcome measures",
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
                ),
            ],
        ),
        Sheet(
            "Pooled fund contributions",
            [
                Table(
                    "Contributions to the pooled fund",
                    contribution_rows,
                    [
                        Column("Partner", "partner"),
                        Column("Funding stream", "stream"),
                        *(Column(year, year, MONEY) for year in years),
                    ],
                    total=True,
                )
            ],
        ),
        Sheet(
            "Pooled budget schemes",
            [
                Table(
                    "ITF investment (income lines are negative)",
                    scheme_rows,
                    [
                        Column("Scheme", "name"),
                        Column("Scheme type", "type"),
                        Column("Lead commissioner", "lead"),
                        Column("Provider", "provider"),
                        Column("Income line", "income", YES_NO),
                        *(Column(f"{year} spend", f"spend {year}", MONEY) for year in years),
                        *(Column(f"{year} benefits", f"benefits {year}", MONEY) for year in years),
                    ],
                    total=True,
                )
            ],
        ),
        Sheet(
            "Health and care spend",
            [
                Table(
                    "Total health and care spend for each commissioner",
                    spend_rows,
                    [
                        Column("Organisation", "line"),
                        *(
                            Column(f"{year} {what}", f"{what} {year}", MONEY)
                            for year in spend_years
                            for what in ("spend", "benefits")
                        ),
                    ],
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
                    contingency_rows,
                    [
                        Column("Outcome", "outcome"),
                        Column(f"Planned savings {last}", f"savings {last}", MONEY),
                        Column("Planned savings ongoing", "savings ongoing", MONEY),
                        Column(f"Maximum support needed {last}", f"support {last}", MONEY),
                        Column("Maximum support needed ongoing", "support ongoing", MONEY),
                    ],
                    total=True,
                ),
            ],
        ),
        Sheet(
            "Key risks",
            [
                Table(
                    "Key risks",
                    risk_rows,
                    [
                        Column("Risk", "description"),
                        Column("Impact", "impact"),
                        Column("Probability", "probability"),
                        Column("Risk rating", "rating"),
                        Column("Mitigating actions", "mitigation"),
                        Column("Owner", "owner"),
                        Column("Affects NHS providers", "providers", YES_NO),
                    ],
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
