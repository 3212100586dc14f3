"""Every part of the plan in template order: which form holds it, which group it sits in on the
task list, the template's guidance, and who may edit it. The task list, the part pages, the
history and the exports all read this list."""

from dataclasses import dataclass

from finance.parts import (
    ArrangementsForm,
    ContingencyForm,
    ContributionsForm,
    HealthSpendForm,
    SchemesForm,
)
from governance.permissions import EDIT_FINANCE, EDIT_PLAN
from plans.constants import PartKey
from plans.parts import (
    DataSharingForm,
    JointAssessmentForm,
    MetricsForm,
    PartForm,
    ProtectingSocialCareForm,
    RelatedDocumentsForm,
    RisksForm,
    SevenDayServicesForm,
    SummaryForm,
    TextForm,
    metrics_with_nationals,
    shown,
)


@dataclass(frozen=True)
class PartSpec:
    key: PartKey
    group: str
    guidance: str
    form: type[PartForm]
    edit_permission: str = EDIT_PLAN
    form_template: str = "plans/includes/part_form.html"

    @property
    def title(self) -> str:
        return PartKey(self.key).label


PARTS: list[PartSpec] = [
    PartSpec(
        PartKey.SUMMARY,
        "Plan summary",
        "The local authority and CCGs come from the area. Dates and pooled budget values are "
        "filled in by the sign-off and finance parts.",
        SummaryForm,
    ),
    PartSpec(
        PartKey.PROVIDER_ENGAGEMENT,
        "Narrative",
        "Please describe how health and social care providers have been involved in the "
        "development of this plan, and the extent to which they are party to it.",
        TextForm,
    ),
    PartSpec(
        PartKey.PUBLIC_ENGAGEMENT,
        "Narrative",
        "Please describe how patients, service users and the public have been involved in the "
        "development of this plan, and the extent to which they are party to it.",
        TextForm,
    ),
    PartSpec(
        PartKey.RELATED_DOCUMENTS,
        "Narrative",
        "Please include links to any related documents such as the full project plan for the "
        "scheme, and documents related to each national condition.",
        RelatedDocumentsForm,
    ),
    PartSpec(
        PartKey.VISION,
        "Narrative",
        "Your vision for health and care services in your area, looking ahead to 2018/19.",
        TextForm,
    ),
    PartSpec(
        PartKey.AIMS,
        "Narrative",
        "The aims and objectives of integrated health and social care in your area.",
        TextForm,
    ),
    PartSpec(
        PartKey.PLANNED_CHANGES,
        "Narrative",
        "The changes you plan to make, and how they will be delivered.",
        TextForm,
    ),
    PartSpec(
        PartKey.ACUTE_SECTOR,
        "Narrative",
        "Set out the implications of the plan on the delivery of NHS services including clearly "
        "identifying where any NHS savings will be realised and the risk of the savings not "
        "being realised. You must clearly quantify the impact on NHS service delivery targets "
        "including in the scenario of the required savings not materialising. The details of "
        "this response must be developed with the relevant NHS providers.",
        TextForm,
    ),
    PartSpec(
        PartKey.GOVERNANCE,
        "Narrative",
        "Please provide details of the arrangements in place for oversight and governance for "
        "progress and outcomes.",
        TextForm,
    ),
    PartSpec(
        PartKey.PROTECTING_SOCIAL_CARE,
        "National conditions",
        "Please outline your agreed local definition of protecting social care services, and "
        "explain how local social care services will be protected within your plans.",
        ProtectingSocialCareForm,
    ),
    PartSpec(
        PartKey.SEVEN_DAY_SERVICES,
        "National conditions",
        "7-day services in health and social care to support patients being discharged and "
        "prevent unnecessary admissions at weekends.",
        SevenDayServicesForm,
    ),
    PartSpec(
        PartKey.DATA_SHARING,
        "National conditions",
        "Please confirm that you are using the NHS Number as the primary identifier for "
        "correspondence across all health and care services. If you are not, please confirm "
        "your commitment that this will be in place and when by.",
        DataSharingForm,
    ),
    PartSpec(
        PartKey.JOINT_ASSESSMENT,
        "National conditions",
        "A joint approach to assessments and care planning and, where funding is used for "
        "integrated packages of care, an accountable professional.",
        JointAssessmentForm,
    ),
    PartSpec(
        PartKey.METRICS,
        "Outcomes and metrics",
        "The five national measures are always included; add any local measures. National "
        "metrics remain subject to confirmation.",
        MetricsForm,
    ),
    PartSpec(
        PartKey.CONTRIBUTIONS,
        "Pooled fund",
        "What each partner puts into the pooled fund, by funding stream and year. Totals are "
        "worked out for you: the pooled budget is the sum of the contributions.",
        ContributionsForm,
        EDIT_FINANCE,
        "finance/contributions_form.html",
    ),
    PartSpec(
        PartKey.ARRANGEMENTS,
        "Pooled fund",
        "The host partner and pooled fund manager (section 75), how over- and under-spends are "
        "shared, the materiality threshold for changes, and how quickly partners are told of an "
        "over- or under-spend.",
        ArrangementsForm,
        EDIT_FINANCE,
    ),
    PartSpec(
        PartKey.SCHEMES,
        "Pooled fund",
        "Please summarise where your pooled budget will be spent. Net spend (spend less income "
        "lines) must equal the pooled budget in each year, which must be equal to or more than "
        "your ITF allocation.",
        SchemesForm,
        EDIT_FINANCE,
    ),
    PartSpec(
        PartKey.SPEND,
        "Pooled fund",
        "Please summarise the total health and care spend for each commissioner in your area, "
        "with sub-totals for each organisation.",
        HealthSpendForm,
        EDIT_FINANCE,
        "finance/spend_form.html",
    ),
    PartSpec(
        PartKey.CONTINGENCY,
        "Pooled fund",
        "Approximately 25% of the ITF is paid for improving outcomes. If the planned improvements "
        "are not achieved, some of this funding may need to be used to alleviate the pressure on "
        "other services. Please outline your plan for maintaining services if planned "
        "improvements are not achieved.",
        ContingencyForm,
        EDIT_FINANCE,
    ),
    PartSpec(
        PartKey.RISKS,
        "Key risks",
        "Please provide details of the most important risks and your plans to mitigate them. "
        "This should include risks associated with the impact on NHS service providers.",
        RisksForm,
    ),
]
PART_BY_KEY: dict[str, PartSpec] = {spec.key: spec for spec in PARTS}


def part_display(spec: PartSpec, plan, content: dict) -> dict:
    """A part's stored content laid out for reading: its fields, then its rows as a table."""
    content = content or {}
    form = spec.form
    if hasattr(form, "display"):
        return form.display(plan, content)
    fields = [
        (form.base_fields[name].label, shown(form.base_fields[name], content.get(name)))
        for name in form.content_fields()
    ]
    table = None
    if form.row_form is not None:
        rows = content.get("rows", [])
        if spec.key == PartKey.METRICS:
            rows = metrics_with_nationals(rows)
        columns = form.row_form.columns(plan)
        table = {
            "headers": [heading for heading, _ in columns],
            "rows": [[value(row) for _, value in columns] for row in rows],
            "label": form.row_label,
        }
        if rows and hasattr(form.row_form, "total_row"):
            table["rows"].append(form.row_form.total_row(plan, rows))
    return {"fields": fields, "table": table}
