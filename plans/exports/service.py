"""Exporting a plan: the snapshot to write, the record of who exported what, and the files kept
so that what a sealed plan prints is made once (`governance.models.ExportFile`)."""

import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from django.contrib.staticfiles import finders
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django_tasks import task

from finance.rules import pooled_budget
from finance.services import plan_finance_charts, plan_snapshot_now
from governance.constants import Action
from governance.models import Export, ExportFile, Seal
from governance.signoff import readiness_checks
from itf_portal.printing import PRINT_SECONDS, PrintFailed, pdf_print
from plans.checks import Measure, minimum_of, total_of
from plans.constants import PartKey, PartStatus, PlanState
from plans.exports import excel, template
from plans.exports.excel import plan_workbook
from plans.models import Plan
from plans.registry import PARTS, part_display
from plans.snapshot import snapshot_frame
from plans.template import COVER


class Version(NamedTuple):
    """What an export prints: a sealed version (`seal`) or the draft (None), and whether it is
    the version in force, the plan's own while it is past Drafting."""

    seal: Seal | None
    snapshot: dict
    in_force: bool

    @property
    def digest(self) -> str:
        return self.seal.digest if self.seal else ""

    @property
    def dated(self) -> bool:
        """Whether the plan's dates (the Board's, the submission) are about this version: the
        draft's and the version in force, never a version since reopened."""
        return self.seal is None or self.in_force

    @property
    def signed(self) -> Seal | None:
        """The seal whose signatures and approval the paper prints: the version in force."""
        return self.seal if self.in_force else None

    def mark(self, state: str) -> str:
        """What every page of the paper says the plan is, at the top."""
        if self.dated:
            return PRINT_MARK[PlanState(state)]
        return f"Sealed version {self.seal.number}, reopened since — not the plan in force"


def plan_version(plan: Plan, number: int | None = None) -> Version:
    """Sealed version `number` (Seal.DoesNotExist if there is none), or else what the plan's
    exports print today: its sealed version past Drafting, the draft in Drafting."""
    latest = plan.seals.order_by("-number").first()
    if number is None:
        if latest and plan.state != PlanState.DRAFTING:
            return Version(latest, latest.snapshot, True)
        return Version(None, plan_snapshot_now(plan), False)
    seal = plan.seals.get(number=number)
    in_force = seal.pk == latest.pk and plan.state != PlanState.DRAFTING
    return Version(seal, seal.snapshot, in_force)


@transaction.atomic
def plan_export_xlsx(*, plan: Plan, user, number: int | None = None) -> tuple[bytes, str]:
    """The workbook and its file name. A plan past Drafting exports its sealed version, exactly
    as signed, made once for each seal and sign-off state and kept; a plan in Drafting exports
    the current draft, made afresh. `number`: that sealed version, whatever the plan is now."""
    version = plan_version(plan, number)
    snapshot, digest = version.snapshot, version.digest
    name = export_name(plan, digest, "xlsx")
    checks = readiness_checks(plan)
    signoff = signoff_rows(plan, version.signed, snapshot_frame(snapshot))
    cover = cover_lines(plan, snapshot, dated=version.dated)
    key = (
        _key("xlsx", WORKBOOK_WRITER, digest, repr(checks), repr(signoff), repr(cover))
        if digest
        else ""
    )
    kept = ExportFile.objects.filter(key=key, status=ExportFile.DONE).first() if key else None
    if kept:
        Export.objects.create(plan=plan, user=user, format="xlsx", seal=digest)
        return bytes(kept.data), name
    export = Export.objects.create(
        plan=plan, user=user, format="xlsx", seal=digest or "draft", snapshot=snapshot
    )
    workbook = plan_workbook(
        snapshot,
        seal=digest,
        checks=checks,
        signoff=signoff,
        cover=cover,
        export_id=export.pk,
        mark="" if version.dated else version.mark(plan.state),
    )
    if key:
        _keep(
            ExportFile(plan=plan, format="xlsx", seal=digest, key=key, export=export),
            workbook,
        )
    return workbook, name


# What a kept workbook was made by: once the writer or the layout changes (a new release), a
# sealed plan's workbook is made afresh, from the same sealed version, in the new layout.
WORKBOOK_WRITER = hashlib.sha256(
    b"".join(Path(module.__file__).read_bytes() for module in (excel, template))
).hexdigest()


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


class SignOffRow(NamedTuple):
    """One signature of the template's "Authorisation and Sign Off" block."""

    on_behalf_of: str  # the template's words: "Signed on behalf of the Local Authority"
    organisation: str
    by_label: str  # "By", or the Board's "By Chair of the HWB"
    by: str
    position: str
    date: str


def signoff_rows(plan: Plan, seal, frame=None) -> list[SignOffRow]:
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
            SignOffRow(
                COVER.signed_for_la if organisation.is_local_authority else COVER.signed_for_ccg,
                organisation.name,
                "By",
                signature.name if signature else "",
                signature.position if signature else "",
                f"{timezone.localtime(signature.signed_at):%d/%m/%Y}" if signature else "",
            )
        )
    # The chair's approval of this sealed version only: an earlier version's, since reopened,
    # was never given to this one.
    approval = (
        plan.decisions.filter(action=Action.APPROVED, seal=seal).select_related("actor").last()
        if seal
        else None
    )
    rows.append(
        SignOffRow(
            COVER.signed_for_board,
            f"{plan.area.name} Health and Wellbeing Board",
            "By Chair of the HWB",
            (approval.actor.get_full_name() or approval.actor.get_username()) if approval else "",
            "Chair of the Health and Wellbeing Board" if approval else "",
            f"{plan.hwb_agreed_on:%d/%m/%Y}" if plan.hwb_agreed_on else "",
        )
    )
    return rows


class CoverLine(NamedTuple):
    """A line of the template's Cover after the partners, in its own words."""

    label: str
    value: Any  # None while not yet known
    kind: str  # "date" or "money"
    # The figure the line shows, for a workbook's live formulas: a total is a formula of the
    # table's own total; any other figure (a minimum) is held in the line's cell.
    measure: Measure | None = None


def cover_lines(plan: Plan, snapshot: dict, *, dated: bool = True) -> list[CoverLine]:
    """The Board's and the submission dates, then each year's minimum and total agreed value of
    the pooled budget. `dated` False: a sealed version since reopened, which the plan's dates
    are not about."""
    years = snapshot["round"]["years"]
    allocations = snapshot.get("allocations") or {}
    contributions = (snapshot.get("parts", {}).get(PartKey.CONTRIBUTIONS) or {}).get("content")
    totals = pooled_budget(contributions or {}, years)
    minimums = {y: allocations.get(y, {}).get("minimum") for y in years}
    return [
        CoverLine(f"{COVER.hwb_agreed_on}:", plan.hwb_agreed_on if dated else None, "date"),
        CoverLine(f"{COVER.submitted_on}:", plan.submitted_on if dated else None, "date"),
        *(
            CoverLine(
                f"{COVER.minimum}: {year}",
                Decimal(minimums[year]) if minimums[year] is not None else None,
                "money",
                minimum_of(year),
            )
            for year in years
        ),
        *(
            CoverLine(
                f"{COVER.total}: {year}",
                totals[year],
                "money",
                total_of(PartKey.CONTRIBUTIONS, "amount", year),
            )
            for year in years
        ),
    ]


WIDE_COLUMNS = 7


# What every page of the board paper says the plan is, at the top.
PRINT_MARK = {
    PlanState.DRAFTING: "DRAFT — not signed",
    PlanState.AWAITING_SIGNOFF: "Sealed, awaiting sign-off — not yet approved",
    PlanState.SIGNED: "Signed by all partners — awaiting the Health and Wellbeing Board",
    PlanState.APPROVED: "Approved by the Health and Wellbeing Board",
    PlanState.SUBMITTED: "Approved by the Health and Wellbeing Board and submitted",
}


def plan_print_html(plan: Plan, number: int | None = None) -> tuple[str, str]:
    """The board paper's HTML and the seal it prints ("" for a draft): the sealed version of a
    plan past Drafting, else the current draft (`number`: that sealed version). Each part is
    printed under the template's question and guidance; the parts nobody has started are listed
    together at the end."""
    version = plan_version(plan, number)
    snapshot, digest = version.snapshot, version.digest
    parts = snapshot.get("parts", {})
    frame = snapshot_frame(snapshot)
    contents = {key: (part or {}).get("content") or {} for key, part in parts.items()}
    started = {
        key for key, part in parts.items() if (part or {}).get("status") != PartStatus.NOT_STARTED
    }
    sections = []
    for spec in PARTS:
        if spec.key not in started:
            continue
        display = part_display(spec, frame, contents.get(spec.key, {}))
        columns = len((display.get("table") or {}).get("headers", []))
        spend = display.get("spend")
        columns = max(columns, len(spend["headers"]) + 1 if spend else 0)
        # A table of more columns than a portrait page holds at a readable size prints on a
        # landscape page; the one answer of a narrative part prints under its question, unlabelled.
        table = display.get("table") or {}
        rows = table.get("rows") or []
        numeric = table.get("money") or []
        labels = [label for label, _ in display.get("fields", [])]
        sections.append(
            {
                "spec": spec,
                "display": display,
                "wide": columns > WIDE_COLUMNS,
                "unlabelled": spec.content.asks_heading,
                # A part whose one field is labelled with the template's question asks it once.
                "asks": spec.words not in labels,
                # Its table's cells, each with whether its column holds money (kept on one line,
                # to the right).
                "columns": list(zip(table.get("headers", []), numeric, strict=True)),
                "rows": [list(zip(row, numeric, strict=True)) for row in rows],
            }
        )
    html = render_to_string(
        "print/plan.html",
        {
            "snapshot": snapshot,
            "seal": digest,
            "mark": version.mark(plan.state),
            "cover": cover_lines(plan, snapshot, dated=version.dated),
            "dated": version.dated,
            "sections": sections,
            "not_started": [spec for spec in PARTS if spec.key not in started],
            "charts": plan_finance_charts(frame, contents),
            "signoff": signoff_rows(plan, version.signed, frame),
        },
    )
    return html, digest


def export_name(plan: Plan, digest: str, extension: str) -> str:
    """The file name a download is saved as: area, round, and "-draft" unless sealed, or
    "-version-2" for a sealed version that is no longer the plan in force."""
    suffix = "-draft" if not digest else ""
    if digest and (
        plan.state == PlanState.DRAFTING or plan.seals.latest("number").digest != digest
    ):
        suffix = f"-version-{plan.seals.get(digest=digest).number}"
    return f"itf-plan-{plan.area.slug}-{plan.round.slug}{suffix}.{extension}"


# A print still unfinished after this long lost its worker (a restart): the next ask prints again.
PRINT_STALLED_AFTER = timedelta(seconds=PRINT_SECONDS * 2)
# A print that failed (too large for the printer's limits) is tried again after this long.
PRINT_RETRY_AFTER = timedelta(minutes=10)


@transaction.atomic
def plan_pdf_ask(*, plan: Plan, number: int | None = None) -> ExportFile:
    """The plan's PDF as it prints now (`number`: that sealed version's): the kept file if it
    has been printed, else the file the task worker is printing (asked for now if nobody had).
    Two people asking at once, on any app hosts, share one print: the file's key is unique."""
    html, digest = plan_print_html(plan, number)
    return paper_ask(plan=plan, html=html, seal=digest or "draft")


@transaction.atomic
def paper_ask(*, plan: Plan, html: str, seal: str) -> ExportFile:
    """A paper of the plan's (its board paper, its monitoring report) as the task worker prints
    `html`: kept once printed, asked for once however many ask, printed again after a lost or
    failed print. `seal` says what it prints: a seal, "draft" or "monitoring"."""
    file, made = ExportFile.objects.get_or_create(
        key=_key("pdf", html),
        defaults={"plan": plan, "format": "pdf", "seal": seal, "html": html},
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


def paper_response(request, plan: Plan, file: ExportFile, served) -> HttpResponse:
    """The answer to an ask for a paper the task worker prints (`paper_ask`): its state to the
    waiting page's script (JSON), the PDF once printed (`served(file=, user=)` records the
    download and names it), why it failed, or the page that waits for it."""
    response: HttpResponse
    if request.headers.get("Accept") == "application/json":
        response = JsonResponse({"status": file.status, "reason": file.error})
    elif file.status == ExportFile.DONE:
        data, name = served(file=file, user=request.user)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    elif file.status == ExportFile.FAILED:
        response = render(
            request, "plans/print_failed.html", {"plan": plan, "reason": file.error}, status=503
        )
    else:
        response = render(request, "plans/print_waiting.html", {"plan": plan}, status=202)
    patch_vary_headers(response, ["Accept"])
    return response
