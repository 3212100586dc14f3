"""The national composite: one workbook with a row per area, for NHS England and the LGA.

Written in openpyxl's write-only mode and read a batch of areas at a time (a fixed number of
queries per batch), so memory stays flat however many areas there are. A plan past Drafting is
read from its latest sealed version (what its partners signed); a plan in Drafting from its draft.
The money is summed in SQL over the fund's tables (`finance.fund.fund_totals`): a plan past
Drafting cannot be edited, so its tables hold exactly what its seal holds.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from finance.fund import FundTotals, fund_totals
from finance.models import Allocation, Contribution
from governance.models import CompositeExport, Seal
from governance.monitoring import monitoring_summaries
from itf_portal.money import money_format
from plans.constants import NATIONAL_METRICS, FundingStream, OrganisationKind, PartKey, PlanState
from plans.exports.template import printable
from plans.models import Area, Part, Partnership, Plan, PlanningRound
from plans.services import plan_progress
from plans.template import Kind, Metric
from plans.template import cells as template_cells

BATCH = 50
PARTS = [PartKey.METRICS]
STREAMS = list(FundingStream)


@dataclass
class AreaFigures:
    """What the composite needs of one area's plan."""

    area: Area
    partners: list
    plan: Plan | None
    parts: dict  # part key -> content
    totals: FundTotals | None  # the fund's figures, summed in SQL
    minimums: dict  # year -> Decimal
    sealed: str  # the seal's digest, or ""
    performance: dict = field(default_factory=dict)  # year -> the allocation's performance part
    complete: int = 0  # parts marked complete
    contributions: list = field(default_factory=list)  # (partner, kind, stream, year, amount)
    seal: Seal | None = None  # the latest sealed version, past Drafting


TEXT, DATE, MONEY, COUNT, NUMBER = "text", "date", "money", "count", "number"
TOTALS_LABEL = "England (the areas shown)"
WIDTHS = {TEXT: 28, DATE: 12, MONEY: 16, COUNT: 11, NUMBER: 14}
FORMATS = {DATE: "dd/mm/yyyy", MONEY: "£#,##0.00", COUNT: "0", NUMBER: "#,##0.##"}


def columns(years: list[str]) -> list[tuple[str, str]]:
    """The composite's columns, each with its kind: what it is formatted as, and whether the
    national totals row adds it up (money and counts)."""
    return [
        ("Area", TEXT),
        ("Local authority", TEXT),
        ("Clinical commissioning groups", TEXT),
        ("Plan state", TEXT),
        ("Figures from", TEXT),
        ("Agreed at the HWB on", DATE),
        ("Submitted on", DATE),
        (f"Parts complete (of {len(PartKey.values)})", COUNT),
        *((f"Minimum {year}", MONEY) for year in years),
        *((f"Performance element {year}", MONEY) for year in years),
        *((f"Pooled budget {year}", MONEY) for year in years),
        *((f"{stream.label} {year}", MONEY) for stream in STREAMS for year in years),
        ("Number of schemes", COUNT),
        *((f"Scheme net spend {year}", MONEY) for year in years),
        *(
            (f"{name}: {cell.header}", DATE if cell.kind == Kind.DATE else NUMBER)
            for name in NATIONAL_METRICS
            for cell in _metric_cells(years)
        ),
    ]


def headers(years: list[str]) -> list[str]:
    return [title for title, _ in columns(years)]


def _metric_cells(years: list[str]) -> list:
    """A national measure's columns: every asked field of a measure but its name."""
    return [cell for cell in template_cells(Metric, years) if cell.name != "name"]


def _typed(cell, row: dict):
    value = cell.value(row)
    if cell.kind == Kind.DATE:
        return _date(value)
    if cell.kind in (Kind.NUMBER, Kind.PERCENT, Kind.MONEY):
        return _number(value)
    return value or ""


def _number(value) -> Decimal | str:
    if value in (None, ""):
        return ""
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return ""


def row(figures: AreaFigures, years: list[str]) -> list:
    plan = figures.plan
    council = [o.name for o in figures.partners if o.is_local_authority]
    ccgs = [o.name for o in figures.partners if not o.is_local_authority]
    zero = Decimal(0)
    totals = figures.totals or FundTotals({}, {}, 0, {})
    metrics = {
        m.get("name"): m
        for m in figures.parts.get(PartKey.METRICS, {}).get("rows", [])
        if m.get("national")  # a local measure may share a national one's name
    }
    cells = [
        figures.area.name,
        ", ".join(council),
        ", ".join(ccgs),
        plan.get_state_display() if plan else "No plan yet",
        f"Sealed version {figures.sealed[:12]}" if figures.sealed else "Draft",
        plan.hwb_agreed_on if plan and plan.hwb_agreed_on else "",
        plan.submitted_on if plan and plan.submitted_on else "",
        figures.complete,
        *(figures.minimums.get(year, "") for year in years),
        *(figures.performance.get(year, "") for year in years),
        *(totals.pooled.get(year, zero) for year in years),
        *(totals.by_stream.get((stream.value, year), zero) for stream in STREAMS for year in years),
        totals.schemes,
        *(totals.net_spend.get(year, zero) for year in years),
    ]
    for name in NATIONAL_METRICS:
        metric = metrics.get(name, {})
        cells += [_typed(cell, metric) for cell in _metric_cells(years)]
    return cells


def _date(value) -> date | str:
    try:
        return date.fromisoformat(value) if value else ""
    except (TypeError, ValueError):
        return ""


def area_figures(areas: list[Area], round_: PlanningRound):
    """The figures of a batch of areas, in a fixed number of queries whatever the batch."""
    plans = {plan.area_id: plan for plan in Plan.objects.filter(area__in=areas, round=round_)}
    # Plain rows, not model instances: a prefetch ties parts and plans in reference cycles that
    # only the garbage collector frees, and memory would grow with the number of batches.
    drafts: dict = {}
    for plan_id, key, content in Part.objects.filter(
        plan__in=plans.values(), key__in=PARTS
    ).values_list("plan_id", "key", "content"):
        drafts.setdefault(plan_id, {})[key] = content
    sealed_plans = [p for p in plans.values() if p.state != PlanState.DRAFTING]
    seals = {
        seal.plan_id: seal
        for seal in Seal.objects.filter(plan__in=sealed_plans)
        .order_by("plan_id", "-number")
        .distinct("plan_id")
    }
    partners: dict = {}
    for partnership in Partnership.objects.filter(area__in=areas).select_related("organisation"):
        partners.setdefault(partnership.area_id, []).append(partnership.organisation)
    totals = fund_totals([plan.pk for plan in plans.values()], round_.year_labels)
    minimums: dict = {}
    performance: dict = {}
    for allocation in Allocation.objects.filter(area__in=areas, round=round_):
        minimums.setdefault(allocation.area_id, {})[allocation.year_label] = allocation.minimum
        performance.setdefault(allocation.area_id, {})[allocation.year_label] = (
            allocation.performance_element
        )
    complete = plan_progress(round=round_, areas=areas)
    contributions: dict = {}
    for row in (
        Contribution.objects.filter(plan__in=plans.values(), amount__gt=0)
        .order_by("plan_id", "-organisation__kind", "organisation_name", "stream", "year")
        .values_list(
            "plan_id", "organisation_name", "organisation__kind", "stream", "year", "amount"
        )
    ):
        contributions.setdefault(row[0], []).append(row[1:])
    for area in areas:
        plan = plans.get(area.pk)
        seal = seals.get(plan.pk) if plan else None
        if seal:
            stored = seal.snapshot.get("parts", {})
            parts = {key: (stored.get(key) or {}).get("content") or {} for key in PARTS}
        else:
            parts = drafts.get(plan.pk, {}) if plan else {}
        yield AreaFigures(
            area=area,
            partners=sorted(partners.get(area.pk, []), key=lambda o: not o.is_local_authority),
            plan=plan,
            parts=parts,
            totals=totals.get(plan.pk) if plan else None,
            minimums=minimums.get(area.pk, {}),
            sealed=seal.digest if seal else "",
            performance=performance.get(area.pk, {}),
            complete=complete.get(area.pk, 0),
            contributions=contributions.get(plan.pk, []) if plan else [],
            seal=seal,
        )


CONTRIBUTION_COLUMNS = [
    ("Area", TEXT),
    ("Partner", TEXT),
    ("Partner type", TEXT),
    ("Funding stream", TEXT),
    ("Year", TEXT),
    ("Amount", MONEY),
]
ORGANISATION_KINDS = dict(OrganisationKind.choices)


MONITORING_COLUMNS = [
    ("Area", TEXT),
    ("Latest quarterly return", TEXT),
    ("Saved on", DATE),
    ("Year", TEXT),
    ("Pooled budget", MONEY),
    ("Planned net spend", MONEY),
    ("Forecast net spend", MONEY),
    ("Forecast over-spend (an under-spend is negative)", MONEY),
    ("Shared between the partners", TEXT),
    ("Latest notice raised on", DATE),
    ("Notice due to be acknowledged by", DATE),
    ("Partners still to acknowledge", TEXT),
    ("Confirmed by every partner's finance lead", TEXT),
    ("Noted by the HWB chair on", DATE),
]


def monitoring_rows(figures: list[AreaFigures]) -> list[list]:
    """The Monitoring sheet's rows for a batch of areas: each submitted plan's latest return."""
    seals = {
        f.plan.pk: f.seal
        for f in figures
        if f.plan is not None and f.plan.state == PlanState.SUBMITTED and f.seal is not None
    }
    summaries = monitoring_summaries(seals)
    rows = []
    for area in figures:
        summary = summaries.get(area.plan.pk) if area.plan else None
        if summary is None:
            continue
        shown, notice = summary["figures"], summary["notice"]
        shares = "; ".join(f"{row['name']} {money_format(row['bears'])}" for row in shown["split"])
        rows.append(
            [
                area.area.name,
                summary["quarter"].name,
                timezone.localtime(summary["return"].updated_at).date(),
                shown["year"],
                shown["pool"],
                shown["planned"],
                shown["forecast"],
                shown["overspend"],
                shares,
                notice.raised_on if notice else "",
                notice.due_on if notice else "",
                ", ".join(summary["waiting"]) or ("None" if notice else ""),
                "Yes" if summary["confirmed"] else "No",
                timezone.localtime(summary["noted"].at).date() if summary["noted"] else "",
            ]
        )
    return rows


def _local_cells(years: list[str]) -> list:
    """A local measure's columns: every asked field of a measure, its name first."""
    return template_cells(Metric, years)


def _metric_kind(cell) -> str:
    if cell.kind == Kind.DATE:
        return DATE
    return NUMBER if cell.kind in (Kind.NUMBER, Kind.PERCENT, Kind.MONEY) else TEXT


def _headings(sheet, columns: list[tuple[str, str]]) -> list:
    """A sheet's bold, wrapped heading row; the columns as wide as what they hold."""
    for number, (_, kind) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = WIDTHS[kind]
    sheet.freeze_panes = "A2"
    cells = []
    for title, _ in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cells.append(cell)
    return cells


def _cells(sheet, values: list, kinds: list[str] | None = None) -> list:
    """Every string written as text, never as a formula, whatever a name starts with; money,
    counts and dates in their formats."""
    cells = []
    for value, kind in zip(values, kinds or [TEXT] * len(values), strict=True):
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=printable(value))
            cell.data_type = "s"
            cell.quotePrefix = True
        else:
            cell = WriteOnlyCell(sheet, value=value)
            if kind in FORMATS:
                cell.number_format = FORMATS[kind]
        cells.append(cell)
    return cells


def national_workbook(round_: PlanningRound, *, progress=None, generated_by: str = "") -> bytes:
    """The composite workbook for the round, as an analyst works with it: a frozen, filtered
    header, amounts in pounds, and a national totals row of live formulas (SUBTOTAL, so a filter
    totals what it shows). `progress(done, total)` is called after each batch of areas."""
    years = round_.year_labels
    kinds = [kind for _, kind in columns(years)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Areas")
    sheet.freeze_panes = "B2"
    for number, kind in enumerate(kinds, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = WIDTHS[kind]
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["C"].width = 40
    bold = Font(bold=True)
    header_cells = []
    for title in headers(years):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header_cells.append(cell)
    sheet.row_dimensions[1].height = 45
    sheet.append(header_cells)
    ids = list(Area.objects.order_by("name").values_list("pk", flat=True))
    # Every partner's contributions, a line each (an analyst pivots these), and the areas'
    # local measures, which have no fixed columns.
    by_partner = book.create_sheet("Contributions")
    by_partner.append(_headings(by_partner, CONTRIBUTION_COLUMNS))
    local = book.create_sheet("Local metrics")
    local_columns = [("Area", TEXT), *((c.header, _metric_kind(c)) for c in _local_cells(years))]
    local.append(_headings(local, local_columns))
    monitored: list[list] = []  # one row per monitored area: sorted, then written at the end
    for start in range(0, len(ids), BATCH):
        batch = list(Area.objects.filter(pk__in=ids[start : start + BATCH]).order_by("name"))
        batch_figures = list(area_figures(batch, round_))
        monitored += monitoring_rows(batch_figures)
        for figures in batch_figures:
            sheet.append(_cells(sheet, row(figures, years), kinds))
            for partner, kind, stream, year, amount in figures.contributions:
                line = [figures.area.name, partner, ORGANISATION_KINDS.get(kind, kind)]
                line += [FundingStream(stream).label, year, amount]
                by_partner.append(_cells(by_partner, line, [k for _, k in CONTRIBUTION_COLUMNS]))
            for metric in figures.parts.get(PartKey.METRICS, {}).get("rows", []):
                if not metric.get("national"):
                    values = [figures.area.name, *(_typed(c, metric) for c in _local_cells(years))]
                    local.append(_cells(local, values, [k for _, k in local_columns]))
        if progress:
            progress(min(start + BATCH, len(ids)), len(ids))
    _totals_row(sheet, kinds, len(ids))
    _monitoring_sheet(book.create_sheet("Monitoring"), monitored)
    notes = book.create_sheet("Notes")
    for line in [
        f"{round_.name}: composite of every area's plan",
        f"Generated {timezone.localtime():%d/%m/%Y %H:%M}"
        + (f" by {generated_by}" if generated_by else ""),
        "Amounts are in pounds. A plan past Drafting is shown as its latest sealed version, the",
        "figures its partners signed; a plan in Drafting is shown as its current draft.",
        "The last row of Areas adds up the money and the schemes of the areas the filter shows.",
        "Monitoring: each submitted plan's latest quarterly return, the areas forecasting the",
        "largest over-spend against their pooled budget first; its last row adds up the money.",
    ]:
        notes.append(_cells(notes, [line]))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _monitoring_sheet(sheet, rows: list[list]) -> None:
    """The areas forecasting the largest over-spend first, a filter on every column and a totals
    row of live formulas (what the filter shows)."""
    kinds = [kind for _, kind in MONITORING_COLUMNS]
    sheet.append(_headings(sheet, MONITORING_COLUMNS))
    for values in sorted(rows, key=lambda values: -values[7]):
        sheet.append(_cells(sheet, values, kinds))
    _totals_row(sheet, kinds, len(rows))


def _totals_row(sheet, kinds: list[str], count: int) -> None:
    """Under a sheet's `count` rows, a totals row that adds up its money and counts as live
    formulas of what the filter shows, and the filter over every column."""
    last = count + 1
    totals = []
    for number, kind in enumerate(kinds, start=1):
        letter = get_column_letter(number)
        value = TOTALS_LABEL if number == 1 else None
        if number > 1 and kind in (MONEY, COUNT):
            value = f"=SUBTOTAL(109,{letter}2:{letter}{last})"
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        if kind in FORMATS:
            cell.number_format = FORMATS[kind]
        totals.append(cell)
    sheet.append(totals)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(kinds))}{last}"


# A build that has not moved for this long was stopped (its worker died): a new one may start.
STALLED_AFTER = timedelta(minutes=10)


def composite_status(job: CompositeExport) -> str:
    """building, done, failed, or stalled (a build whose worker stopped before it finished)."""
    if job.status == CompositeExport.BUILDING and timezone.now() - job.updated_at > STALLED_AFTER:
        return "stalled"
    return job.status


@transaction.atomic
def composite_start(*, user, round_: PlanningRound) -> CompositeExport:
    """Queue a build of the round's composite for the task worker, or return the build already
    under way: the database holds one build at a time per round, so two clicks on two app hosts
    at once start one build. The job and its task are committed together."""
    CompositeExport.objects.filter(
        round=round_,
        status=CompositeExport.BUILDING,
        updated_at__lt=timezone.now() - STALLED_AFTER,
    ).update(
        status=CompositeExport.FAILED,
        error="The build stopped before it finished.",
        finished_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            job = CompositeExport.objects.create(
                round=round_, user=user, areas_total=Area.objects.count()
            )
    except IntegrityError:
        return CompositeExport.objects.defer("data").get(
            round=round_, status=CompositeExport.BUILDING
        )
    composite_build.enqueue(job.pk)
    return job


@task()
def composite_build(job_id: int) -> str:
    """The task worker's side of `composite_start`: build the workbook, keeping its progress up
    to date for the page that follows it (on any app host)."""
    job = CompositeExport.objects.select_related("round", "user").get(pk=job_id)
    if job.status != CompositeExport.BUILDING:
        return job.status

    def progress(done: int, total: int) -> None:
        CompositeExport.objects.filter(pk=job_id).update(
            areas_done=done, areas_total=total, updated_at=timezone.now()
        )

    who = (job.user.get_full_name() or job.user.get_username()) if job.user else "a script"
    try:
        data = national_workbook(job.round, progress=progress, generated_by=who)
    except Exception as error:  # the page must say the build failed, whatever the reason
        CompositeExport.objects.filter(pk=job_id).update(
            status=CompositeExport.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    CompositeExport.objects.filter(pk=job_id).update(
        status=CompositeExport.DONE, data=data, finished_at=timezone.now()
    )
    return CompositeExport.DONE
