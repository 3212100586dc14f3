"""Every part of the plan as its pages edit it: the part's description (`plans.template`, where
its words, kinds and editor live) with the form that edits it."""

from dataclasses import dataclass

from finance.parts import (
    ArrangementsForm,
    ContingencyForm,
    ContributionsForm,
    HealthSpendForm,
    SchemesForm,
)
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
    shown_cell,
)
from plans.template import PARTS as DESCRIBED
from plans.template import Cell, Kind, PartSpec, cells


@dataclass(frozen=True)
class PartPage:
    """A part as its pages show and edit it: the part's description (`plans.template`), the
    form that edits it and the template that lays that form out."""

    described: PartSpec
    form: type[PartForm]
    form_template: str = "plans/includes/part_form.html"

    def page_form(self, *args, **kwargs) -> PartForm:
        """The part's form as its web page shows it: a long table's rows are each edited on
        their own page (`plans.views.rows`), so its form leaves them as they are."""
        return self.form(*args, with_rows=not self.form.rows_apart, **kwargs)

    def __getattr__(self, name: str):
        # Everything else a page reads of a part (key, title, words …) is its description's.
        if name == "described":  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.described, name)


# Each kind of content has its form; a new narrative part (an `Answer`) needs nothing here.
FORMS: dict[type, type[PartForm]] = {
    form.content_model: form
    for form in (
        SummaryForm,
        TextForm,
        RelatedDocumentsForm,
        ProtectingSocialCareForm,
        SevenDayServicesForm,
        DataSharingForm,
        JointAssessmentForm,
        MetricsForm,
        ContributionsForm,
        ArrangementsForm,
        SchemesForm,
        HealthSpendForm,
        ContingencyForm,
        RisksForm,
    )
}
TEMPLATES = {
    PartKey.CONTRIBUTIONS: "finance/contributions_form.html",
    PartKey.SPEND: "finance/spend_form.html",
}
PARTS: list[PartPage] = [
    PartPage(spec, FORMS[spec.content], TEMPLATES.get(spec.key, "plans/includes/part_form.html"))
    for spec in DESCRIBED
]
PART_BY_KEY: dict[str, PartPage] = {spec.key: spec for spec in PARTS}


def part_display(spec: PartPage, plan, content: dict, *, table: bool = True) -> dict:
    """A part's stored content laid out for reading: its fields, then its rows as a table
    (`table=False`: not the rows, which a long table's page shows as `rows_overview`)."""
    content = content or {}
    form = spec.form
    if (own := form.display(plan, content)) is not None:
        return own
    fields = [
        (form.base_fields[cell.name].label, shown_cell(cell, content, spec.content))
        for cell in cells(spec.content, plan.round.year_labels)
    ]
    fields += list(form.labelled(content).items())
    rows_table = None
    if form.row_form is not None and table:
        rows = spec.content.rows_shown(content)
        columns = form.row_form.columns(plan)
        shown = [[value(row) for _, value in columns] for row in rows]
        if rows and (total := form.row_form.total_row(plan, rows)):
            shown.append(total)
        # An optional column nobody filled in (no scheme has a provider) is left out of the
        # reading; the template's columns per year always stay.
        shown_cells = form.row_form.shown_cells(plan)
        yearly = [isinstance(item, Cell) and bool(item.period) for item in shown_cells]
        money = [isinstance(item, Cell) and item.kind == Kind.MONEY for item in shown_cells]
        kept = [
            n
            for n in range(len(columns))
            if n == 0 or yearly[n] or any(row[n] for row in shown[: len(rows)])
        ]
        rows_table = {
            "headers": [columns[n][0] for n in kept],
            "rows": [[row[n] for n in kept] for row in shown],
            "label": form.row_label,
            "money": [money[n] for n in kept],  # which columns hold amounts
        }
    return {"fields": fields, "table": rows_table}


def rows_overview(spec: PartPage, plan, content: dict) -> dict | None:
    """The overview of a long table whose rows are each edited on their own page: a few of each
    row's columns (`Content.overview`), numbered as the rows' pages are, and the table's totals."""
    form = spec.form
    if not form.rows_apart:
        return None
    rows = spec.content.rows_shown(content or {})
    shown = form.row_form.overview_cells(plan)
    model = form.row_form.content_model
    every = form.row_form.shown_cells(plan)
    total = form.row_form.total_row(plan, rows) if rows else None
    money = [isinstance(item, Cell) and item.kind == Kind.MONEY for item in shown]
    # Each heading and value with whether it is an amount (set to the right).
    return {
        "headers": list(
            zip([getattr(item, "header", None) or item.label for item in shown], money, strict=True)
        ),
        "rows": [
            (number, list(zip([shown_cell(i, row, model) for i in shown], money, strict=True)))
            for number, row in enumerate(rows, start=1)
        ],
        # The totals row is laid out under every column: keep those of the overview's.
        "total": list(zip([total[every.index(item)] for item in shown], money, strict=True))
        if total
        else None,
    }
