"""The monitoring report: a submitted plan's year so far, as a paper for the Health and Wellbeing
Board and the partners. It prints what the monitoring page shows (`governance.monitoring`): the
notices with their shares and acknowledgements, and for each year the latest return's figures,
charts, commentary and progress by scheme."""

from django.template.loader import render_to_string
from django.utils import timezone

from finance.models import QuarterlyReturn
from finance.rules import materiality_threshold
from governance.models import Export, ExportFile
from governance.monitoring import figures_for, monitoring_overview, submitted_seal
from plans.constants import PartKey
from plans.exports.returns import return_workbook
from plans.exports.service import paper_ask
from plans.models import Plan
from plans.snapshot import sealed_content

MONITORING = "monitoring"  # what an export of the report records in place of a seal


def monitoring_print_html(plan: Plan) -> str:
    overview = monitoring_overview(plan, None)
    return render_to_string(
        "print/monitoring.html",
        {"plan": plan, "monitoring": overview, "printed_on": timezone.localdate()},
    )


def monitoring_pdf_ask(*, plan: Plan) -> ExportFile:
    """The report as it prints today: kept once printed, printed by the task worker."""
    return paper_ask(plan=plan, html=monitoring_print_html(plan), seal=MONITORING)


def monitoring_pdf_served(*, file: ExportFile, user) -> tuple[bytes, str]:
    """Record the download (who, which plan); the report's bytes and its file name."""
    Export.objects.create(plan_id=file.plan_id, user=user, format="pdf", seal=MONITORING)
    plan = file.plan
    name = f"itf-monitoring-{plan.area.slug}-{plan.round.slug}-{file.created_at:%Y-%m-%d}.pdf"
    return bytes(file.data), name


def return_export_xlsx(*, plan: Plan, quarter, user) -> tuple[bytes, str]:
    """A quarter's return as its workbook, as it stands; the export is recorded."""
    seal = submitted_seal(plan)
    assert seal is not None  # a return's quarter has begun only for a submitted plan
    found = QuarterlyReturn.objects.filter(
        plan=plan, year=quarter.year_label, quarter=quarter.quarter
    ).first()
    content, version = (found.content, found.version) if found else ({}, 0)
    arrangements = sealed_content(seal.snapshot, PartKey.ARRANGEMENTS)
    threshold = materiality_threshold(arrangements)
    data = return_workbook(
        plan=plan,
        quarter=quarter,
        figures=figures_for(seal, quarter.year_label, content),
        version=version,
        threshold=threshold,
        seal=seal.digest,
    )
    Export.objects.create(plan=plan, user=user, format="xlsx", seal=f"return {quarter.slug}")
    return data, f"itf-return-{plan.area.slug}-{quarter.slug}-version-{version}.xlsx"
