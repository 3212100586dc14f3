"""Workbooks in and out beyond a plan's own export: importing an edited workbook into a plan
(upload, preview every change, confirm), and the national composite of every area."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods

from governance.models import CompositeExport
from governance.permissions import (
    EDIT_FINANCE,
    EDIT_PLAN,
    has_area_perm,
    plan_for_user,
    require_national_admin,
)
from plans.diff import part_changes
from plans.exports.importer import (
    ImportStale,
    import_apply,
    import_pending,
    import_preview,
)
from plans.exports.national import composite_start, composite_status
from plans.exports.reader import WorkbookRefused
from plans.models import PlanImport
from plans.registry import PART_BY_KEY
from plans.services import PlanNotEditable, plan_current_round, plan_editable


class UploadForm(forms.Form):
    workbook = forms.FileField(
        label="Workbook",
        help_text="An .xlsx file exported from this plan and edited in Excel or LibreOffice, "
        "up to 5 MB.",
        error_messages={
            "required": "Choose the workbook to upload.",
            "empty": "The file you chose is empty.",
            "invalid": "Choose the workbook to upload.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


def _parts(count: int) -> str:
    return f"{count} part{'s' if count != 1 else ''}"


def _importable_plan(request, slug: str, round_slug: str):
    plan = plan_for_user(request.user, slug, round_slug)
    if not (
        has_area_perm(request.user, EDIT_PLAN, plan.area)
        or has_area_perm(request.user, EDIT_FINANCE, plan.area)
    ):
        raise PermissionDenied(
            "Only commissioners, finance leads and the area admin can import a workbook into "
            "the plan. You can download it."
        )
    return plan


@login_required
@require_http_methods(["GET", "POST"])
def plan_import(request, slug, round_slug):
    plan = _importable_plan(request, slug, round_slug)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    problems: list[str] = []
    if getattr(request, "upload_too_large", False):
        problems = ["The file is larger than 5 MB, the largest workbook we accept."]
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["workbook"]
        try:
            preview = import_preview(plan=plan, user=request.user, data=upload.read())
        except WorkbookRefused as refused:
            problems = refused.messages
        else:
            pending = import_pending(
                plan=plan, user=request.user, preview=preview, file_name=upload.name
            )
            for notice in preview.notices:
                messages.info(request, notice)
            return redirect("plan_import_preview", slug, round_slug, pending.pk)
    return render(
        request,
        "plans/import_upload.html",
        {
            "plan": plan,
            "form": form,
            "problems": problems,
            "editable": plan_editable(plan),
        },
        status=400 if problems or form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_import_preview(request, slug, round_slug, pk):
    plan = _importable_plan(request, slug, round_slug)
    # Only the person who uploaded a file sees its preview.
    pending = get_object_or_404(PlanImport, pk=pk, plan=plan, user=request.user)
    current = {part.key: part for part in plan.parts.all()}
    parts = []
    for key, change in pending.parts.items():
        spec, part = PART_BY_KEY[key], current[key]
        parts.append(
            {
                "key": key,
                "spec": spec,
                "conflict": change["conflict"],
                "changes": part_changes(spec, part.content, change["content"]),
                "stale": part.version != change["base_version"],
            }
        )
    parts.sort(key=lambda p: list(PART_BY_KEY).index(p["key"]))
    error = ""
    if request.method == "POST" and pending.applied_at:
        # A second click on "Import these changes": the first one has done it.
        messages.info(request, f"{pending.file_name} has already been imported.")
        return redirect("task_list", slug, round_slug)
    if request.method == "POST":
        overwrite = set(request.POST.getlist("overwrite")) & set(pending.parts)
        try:
            saved = import_apply(pending=pending, user=request.user, overwrite=overwrite)
        except (ImportStale, PlanNotEditable) as refusal:
            error = str(refusal)
        else:
            skipped = len(pending.parts) - len(saved)
            text = f"Imported {pending.file_name}: {_parts(len(saved))} changed."
            if skipped:
                text += f" {_parts(skipped)} in conflict kept as they were."
            messages.success(request, text)
            return redirect("task_list", slug, round_slug)
    return render(
        request,
        "plans/import_preview.html",
        {
            "plan": plan,
            "pending": pending,
            "parts": parts,
            "left_out": pending.left_out,
            "conflicts": sum(1 for part in parts if part["conflict"]),
            "error": error,
        },
        status=409 if error else 200,
    )


COMPOSITE_ONLY = "Only national admins can build the composite workbook of every area."


@login_required
@require_http_methods(["GET", "POST"])
def national_composite(request):
    """National admins build the composite workbook of every area; the page shows progress."""
    require_national_admin(request.user, COMPOSITE_ONLY)
    if request.method == "POST":
        # One build at a time: a second click follows the build already under way.
        job = composite_start(user=request.user, round_=plan_current_round())
        return redirect("national_composite_build", job.pk)
    builds = list(CompositeExport.objects.select_related("user").defer("data")[:10])
    for build in builds:
        build.shown_status = composite_status(build)
    return render(request, "plans/composite.html", {"builds": builds})


@login_required
def national_composite_build(request, pk):
    require_national_admin(request.user, COMPOSITE_ONLY)
    job = get_object_or_404(CompositeExport.objects.defer("data"), pk=pk)
    status = composite_status(job)
    if request.headers.get("Accept") == "application/json":
        response = JsonResponse(
            {
                "status": status,
                "done": job.areas_done,
                "total": job.areas_total,
                "percent": job.percent,
            }
        )
    else:
        response = render(request, "plans/composite_build.html", {"job": job, "status": status})
    patch_vary_headers(response, ["Accept"])
    return response


@login_required
def national_composite_download(request, pk):
    require_national_admin(request.user, COMPOSITE_ONLY)
    job = get_object_or_404(CompositeExport, pk=pk, status=CompositeExport.DONE)
    response = HttpResponse(
        bytes(job.data),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"itf-composite-{job.round.slug}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
