"""Exporting a plan: the snapshot to write, the record of who exported what, and the files kept
so that what a sealed plan prints is made once (`governance.models.ExportFile`)."""

import hashlib
from datetime import timedelta

from django.contrib.staticfiles import finders
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from finance.services import plan_finance_charts, plan_snapshot_now
from governance.constants import Action
from governance.models import Export, ExportFile
from governance.signoff import readiness_checks
from itf_portal.printing import PRINT_SECONDS, PrintFailed, pdf_print
from plans.constants import PlanState
from plans.exports.excel import plan_workbook
from plans.models import Plan
from plans.registry import PARTS, part_display
from plans.snapshot import snapshot_frame


@transaction.atomic
def plan_export_xlsx(*, plan: Plan, user) -> tuple[bytes, str]:
    """The workbook and its file name. A plan past Drafting exports its sealed version, exactly
    as signed, made once for each seal and sign-off state and kept; a plan in Drafting exports
    the current draft, made afresh."""
    seal = plan.seals.order_by("-number").first()
    if seal and plan.state != PlanState.DRAFTING:
        snapshot, digest = seal.snapshot, seal.digest
    else:
        snapshot, digest = plan_snapshot_now(plan), ""
    name = export_name(plan, digest, "xlsx")
    checks = readiness_checks(plan)
    signoff = signoff_rows(plan, seal if digest else None, snapshot_frame(snapshot))
    key = _key("xlsx", digest, repr(checks), repr(signoff)) if digest else ""
    kept = ExportFile.objects.filter(key=key, status=ExportFile.DONE).first() if key else None
    if kept:
        Export.objects.create(plan=plan, user=user, format="xlsx", seal=digest)
        return bytes(kept.data), name
    export = Export.objects.create(
        plan=plan, user=user, format="xlsx", seal=digest or "draft", snapshot=snapshot
    )
    workbook = plan_workbook(
        snapshot, seal=digest, checks=checks, signoff=signoff, export_id=export.pk
    )
    if key:
        _keep(
            ExportFile(plan=plan, format="xlsx", seal=digest, key=key, export=export),
            workbook,
        )
    return workbook, name


def _key(*inputs: str) -> str:
    """The digest that names a kept file: equal exactly when the file would print the same."""
    return hashlib.sha256("\x1f".join(inputs).encode()).hexdigest()


def _keep(file: ExportFile, data: bytes) -> None:
    """Keep a finished file, and let go of the plan's older files of the same seal and format
    (nobody asks for them again: what they printed has moved on)."""
    with transaction.atomic():
        file.status, file.data, file.html = ExportFile.DONE, data, ""
        file.save()
        ExportFile.objects.filter(plan_id=file.plan_id, format=file.format, seal=file.seal).exclude(
            pk=file.pk
        ).exclude(status=ExportFile.PRINTING).delete()


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


def export_name(plan: Plan, digest: str, extension: str) -> str:
    """The file name a download is saved as: area, round, and "-draft" unless sealed."""
    return f"itf-plan-{plan.area.slug}-{plan.round.slug}{'' if digest else '-draft'}.{extension}"


# A print still unfinished after this long lost its worker (a restart): the next ask prints again.
PRINT_STALLED_AFTER = timedelta(seconds=PRINT_SECONDS * 2)
# A print that failed (too large for the printer's limits) is tried again after this long.
PRINT_RETRY_AFTER = timedelta(minutes=10)


@transaction.atomic
def plan_pdf_ask(*, plan: Plan) -> ExportFile:
    """The plan's PDF as it prints now: the kept file if it has been printed, else the file the
    task worker is printing (asked for now if nobody had). Two people asking at once, on any
    app hosts, share one print: the file's key is unique."""
    html, digest = plan_print_html(plan)
    file, made = ExportFile.objects.get_or_create(
        key=_key("pdf", html),
        defaults={"plan": plan, "format": "pdf", "seal": digest or "draft", "html": html},
    )
    since = timezone.now() - file.updated_at
    again = (file.status == ExportFile.PRINTING and since > PRINT_STALLED_AFTER) or (
        file.status == ExportFile.FAILED and since > PRINT_RETRY_AFTER
    )
    if again:
        file.status, file.html, file.error = ExportFile.PRINTING, html, ""
        file.save(update_fields=["status", "html", "error", "updated_at"])
    if made or again:
        pdf_print_file.enqueue(file.pk)
    return file


def plan_pdf_served(*, file: ExportFile, user) -> tuple[bytes, str]:
    """Record the download of a printed PDF (who, which plan, which seal); its bytes and name."""
    Export.objects.create(plan_id=file.plan_id, user=user, format="pdf", seal=file.seal)
    return bytes(file.data), export_name(
        file.plan, "" if file.seal == "draft" else file.seal, "pdf"
    )


@task()
def pdf_print_file(file_id: int) -> str:
    """The task worker's side of `plan_pdf_ask`: print the paper within the printer's limits and
    keep the PDF, or record why it could not be printed."""
    file = ExportFile.objects.filter(pk=file_id, status=ExportFile.PRINTING).first()
    if file is None:
        return "nothing to do"  # printed already, by another worker
    try:
        pdf = pdf_print(file.html, finders.find("print/plan.css"))
    except PrintFailed as failed:
        ExportFile.objects.filter(pk=file_id).update(
            status=ExportFile.FAILED, error=str(failed), updated_at=timezone.now()
        )
        return ExportFile.FAILED
    _keep(file, pdf)
    return ExportFile.DONE


def plan_export_pdf(*, plan: Plan, user) -> tuple[bytes, str]:
    """The plan as an HWB board paper, printed here and now (the `export_plan` command): cover,
    contents, every part in template order, the fund's tables and charts, and the sign-off page.
    "DRAFT — not signed" on every page until approved. PrintFailed if it cannot be printed
    within the printer's limits (nothing is recorded)."""
    html, digest = plan_print_html(plan)
    pdf = pdf_print(html, finders.find("print/plan.css"))
    Export.objects.create(plan=plan, user=user, format="pdf", seal=digest or "draft")
    return pdf, export_name(plan, digest, "pdf")
