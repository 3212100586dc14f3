"""Exporting a plan: the snapshot to write, and the record of who exported what."""

from django.contrib.staticfiles import finders
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from finance.services import plan_finance_charts, plan_snapshot_now
from governance.constants import Action
from governance.models import Export
from governance.signoff import readiness_checks
from itf_portal.printing import pdf_print
from plans.constants import PlanState
from plans.exports.excel import plan_workbook
from plans.models import Plan
from plans.registry import PARTS, part_display
from plans.snapshot import snapshot_frame


@transaction.atomic
def plan_export_xlsx(*, plan: Plan, user) -> tuple[bytes, str]:
    """The workbook and its file name. A plan past Drafting exports its sealed version, exactly
    as signed; a plan in Drafting exports the current draft."""
    seal = plan.seals.order_by("-number").first()
    if seal and plan.state != PlanState.DRAFTING:
        snapshot, digest = seal.snapshot, seal.digest
    else:
        snapshot, digest = plan_snapshot_now(plan), ""
    export = Export.objects.create(
        plan=plan, user=user, format="xlsx", seal=digest or "draft", snapshot=snapshot
    )
    name = f"itf-plan-{plan.area.slug}-{plan.round.slug}{'-draft' if not digest else ''}.xlsx"
    workbook = plan_workbook(
        snapshot,
        seal=digest,
        checks=readiness_checks(plan),
        signoff=signoff_rows(plan, seal if digest else None, snapshot_frame(snapshot)),
        export_id=export.pk,
    )
    return workbook, name


def signoff_rows(plan: Plan, seal, frame=None) -> list[tuple]:
    """The template's sign-off block: each CCG and the LA, then the HWB chair. The partners are
    the sealed version's (`frame`) where there is one, as they were when it was signed."""
    signatures = (
        {s.organisation_id: s for s in seal.signatures.filter(withdrawn_at__isnull=True)}
        if seal
        else {}
    )
    partners = sorted((frame or plan).partner_organisations, key=lambda o: o.is_local_authority)
    rows = []
    for organisation in partners:
        signature = signatures.get(organisation.pk)
        rows.append(
            (
                organisation.name,
                signature.name if signature else "",
                signature.position if signature else "",
                f"{timezone.localtime(signature.signed_at):%d/%m/%Y}" if signature else "",
            )
        )
    approval = plan.decisions.filter(action=Action.APPROVED).select_related("actor").last()
    rows.append(
        (
            "Health and Wellbeing Board",
            (approval.actor.get_full_name() or approval.actor.get_username()) if approval else "",
            "Chair of the Health and Wellbeing Board" if approval else "",
            f"{plan.hwb_agreed_on:%d/%m/%Y}" if plan.hwb_agreed_on else "",
        )
    )
    return rows


def plan_print_html(plan: Plan) -> tuple[str, str]:
    """The board paper's HTML and the seal it prints ("" for a draft): the sealed version of a
    plan past Drafting, else the current draft."""
    seal = plan.seals.order_by("-number").first()
    sealed = seal is not None and plan.state != PlanState.DRAFTING
    snapshot = seal.snapshot if sealed else plan_snapshot_now(plan)
    digest = seal.digest if sealed else ""
    parts = snapshot.get("parts", {})
    frame = snapshot_frame(snapshot)
    contents = {key: (part or {}).get("content") or {} for key, part in parts.items()}
    html = render_to_string(
        "print/plan.html",
        {
            "snapshot": snapshot,
            "seal": digest,
            "approved": plan.state in (PlanState.APPROVED, PlanState.SUBMITTED),
            "sections": [
                {
                    "spec": spec,
                    "display": part_display(spec, frame, contents.get(spec.key, {})),
                }
                for spec in PARTS
            ],
            "charts": plan_finance_charts(frame, contents),
            "signoff": signoff_rows(plan, seal if sealed else None, frame),
        },
    )
    return html, digest


@transaction.atomic
def plan_export_pdf(*, plan: Plan, user) -> tuple[bytes, str]:
    """The plan as an HWB board paper: cover, contents, every part in template order, the fund's
    tables and charts, and the sign-off page. "DRAFT — not signed" on every page until approved.
    PrintFailed if it cannot be printed within the printer's limits (nothing is recorded)."""
    html, digest = plan_print_html(plan)
    pdf = pdf_print(html, finders.find("print/plan.css"))
    Export.objects.create(plan=plan, user=user, format="pdf", seal=digest or "draft")
    name = f"itf-plan-{plan.area.slug}-{plan.round.slug}{'-draft' if not digest else ''}.pdf"
    return pdf, name
