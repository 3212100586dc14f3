from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from finance.forms import AllocationForm, AllocationsUploadForm
from finance.models import Allocation, QuarterlyReturn
from finance.monitoring_forms import (
    PerformanceTermsForm,
    ReturnForm,
    ReturnUploadForm,
)
from finance.parts import ArrangementsForm
from finance.returns import return_changes
from finance.services import (
    allocation_check,
    allocations_load,
    allocations_save,
    fund_contents,
    performance_terms,
    performance_terms_save,
    plan_charts_now,
    plan_fund_summary,
    risk_share_calculator,
)
from governance.models import VarianceNotice
from governance.monitoring import (
    ReturnConflict,
    figures_for,
    monitoring_overview,
    notice_acknowledge,
    notice_words,
    quarter_find,
    return_comment_add,
    return_comments,
    return_confirm,
    return_history,
    return_named,
    return_note,
    return_path,
    return_refusal,
    return_save,
    return_signoff,
    submitted_seal,
)
from governance.permissions import (
    REFUSALS,
    has_area_perm,
    plan_for_user,
    require_national_admin,
)
from itf_portal.forms import CommentForm, errors_to_form
from plans.constants import EDIT_FINANCE
from plans.exports.monitoring import (
    monitoring_pdf_ask,
    monitoring_pdf_served,
    return_export_xlsx,
)
from plans.exports.returns import WorkbookProblem, return_workbook_read
from plans.exports.service import paper_response
from plans.models import Organisation
from plans.services import plan_current_round
from plans.template import ContentError, content_problems

UPLOAD_LIMIT = 1024 * 1024


@login_required
def fund_summary(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug)
    contents = fund_contents(plan)
    return render(
        request,
        "finance/summary.html",
        {
            "plan": plan,
            "fund": plan_fund_summary(plan, contents),
            "charts": plan_charts_now(plan, contents),
        },
    )


@login_required
def risk_share(request, slug, round_slug):
    """The risk-share calculator on its own page. The arrangements page's script asks it with
    the basis and shares on that page, so they count before they are saved."""
    plan = plan_for_user(request.user, slug, round_slug)
    shown = None
    if "risk_share_basis" in request.GET:
        shown = {
            "risk_share_basis": request.GET["risk_share_basis"],
            "shares": {
                str(partner.pk): request.GET.get(ArrangementsForm.share_name(partner.pk), "")
                for partner in plan.partner_organisations
            },
        }
    calculator = risk_share_calculator(
        plan, request.GET.get("overspend", ""), request.GET.get("year", ""), shown=shown
    )
    return render(
        request,
        "finance/risk_share.html",
        {"plan": plan, "calculator": calculator, "shown": shown is not None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def allocations(request):
    require_national_admin(request.user)
    planning_round = plan_current_round()
    form = AllocationForm(years=planning_round.year_labels)
    upload = AllocationsUploadForm()
    terms = PerformanceTermsForm(terms=performance_terms(planning_round))
    if request.method == "POST" and "terms" in request.POST:
        terms = PerformanceTermsForm(request.POST, terms=performance_terms(planning_round))
        if terms.is_valid():
            try:
                performance_terms_save(planning_round=planning_round, terms=terms.terms())
            except ValidationError as error:
                errors_to_form(terms, error)
            else:
                messages.success(request, "How the national measures count has been saved.")
                return redirect("allocations")
    elif request.method == "POST" and "upload" in request.POST:
        upload = AllocationsUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            file = upload.cleaned_data["file"]
            try:
                if file.size > UPLOAD_LIMIT:
                    raise ValidationError(
                        "The file is over 1 MB: an allocations file is far smaller."
                    )
                try:
                    text = file.read().decode("utf-8-sig")
                except UnicodeDecodeError as error:
                    raise ValidationError("The file is not a CSV text file (UTF-8).") from error
                count = allocations_load(planning_round=planning_round, text=text)
            except ValidationError as error:
                errors_to_form(upload, error)
            else:
                messages.success(request, f"Saved {count} allocations from {file.name}.")
                return redirect("allocations")
    elif request.method == "POST":
        form = AllocationForm(request.POST, years=planning_round.year_labels)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = allocation_check(
                    planning_round=planning_round,
                    area=data["area"],
                    year=data["year"],
                    minimum=data["minimum"],
                    performance=data["performance"],
                )
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                allocations_save(planning_round=planning_round, rows=[row])
                messages.success(
                    request, f"Allocation for {data['area'].name} {data['year']} saved."
                )
                return redirect("allocations")
    rows = Allocation.objects.filter(round=planning_round).select_related("area")
    return render(
        request,
        "finance/allocations.html",
        {
            "form": form,
            "upload": upload,
            "terms": terms,
            "allocations": rows,
            "round": planning_round,
        },
    )


# ---- In-year monitoring ------------------------------------------------------------------------


@login_required
def monitoring(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug)
    return render(
        request,
        "finance/monitoring.html",
        {"plan": plan, "monitoring": monitoring_overview(plan, request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def quarterly_return(request, slug, round_slug, quarter):
    """A quarter's return: the finance lead's form, or for everyone else its figures read-only.
    A return for a plan not yet submitted, or a quarter not yet begun, is refused with why."""
    plan = plan_for_user(request.user, slug, round_slug)
    found_quarter = quarter_find(plan, quarter)
    if found_quarter is None:
        raise Http404("No such quarter in this plan's years.")
    refusal = return_refusal(plan, found_quarter, timezone.localdate())
    may_record = has_area_perm(request.user, EDIT_FINANCE, plan.area)
    if request.method == "POST" and not may_record:
        # Permission first: a person who may not record learns nothing of the return's state.
        raise PermissionDenied(REFUSALS[EDIT_FINANCE])
    if refusal:
        context = {"plan": plan, "quarter": found_quarter, "refusal": refusal}
        return render(request, "finance/return.html", context, status=409 if request.POST else 200)
    current = QuarterlyReturn.objects.filter(
        plan=plan, year=found_quarter.year_label, quarter=found_quarter.quarter
    ).first()
    stored, version = (current.content, current.version) if current else ({}, 0)
    context = _return_context(request, plan, found_quarter, current)
    figures = context["figures"]
    if request.method == "POST" and "import" in request.POST:
        return _return_import(request, context, plan, found_quarter, figures, stored)
    if request.method == "POST":
        form = ReturnForm(request.POST, figures=figures, content=stored, version=version)
        context["form"] = form
        if not form.is_valid():
            return render(request, "finance/return.html", context, status=400)
        try:
            saved, notice = return_save(
                plan=plan,
                quarter=found_quarter,
                content=form.content(),
                base_version=form.cleaned_data["base_version"],
                user=request.user,
            )
        except ReturnConflict as conflict:
            # Keep every figure the person typed; base the next save on what is there now.
            data = request.POST.copy()
            data["base_version"] = str(conflict.current.version)
            theirs = conflict.current.content
            mine = ReturnForm(
                data, figures=figures, content=theirs, version=conflict.current.version
            )
            mine.is_valid()
            context.update(
                form=mine,
                conflict={
                    "current": conflict.current,
                    "changes": return_changes(theirs, return_named(mine.content(), figures)),
                },
            )
            return render(request, "finance/return.html", context, status=409)
        except (ValidationError, ContentError) as error:
            form.add_error(
                None,
                content_problems(error) if isinstance(error, ContentError) else error.messages,
            )
            return render(request, "finance/return.html", context, status=400)
        if saved.version == form.cleaned_data["base_version"]:
            messages.info(
                request,
                f"Nothing had changed: the {found_quarter.name} return stays at version "
                f"{saved.version}, and its sign-off stands.",
            )
            return redirect("monitoring", slug=slug, round_slug=round_slug)
        messages.success(request, f"{found_quarter.name} return saved (version {saved.version}).")
        if notice is not None:
            messages.warning(
                request,
                f"{notice_words(notice)}: the notice to every partner has been raised and "
                f"sent, to be acknowledged by {notice.due_on:%-d %B %Y}.",
            )
        return redirect("monitoring", slug=slug, round_slug=round_slug)
    return render(request, "finance/return.html", context)


@login_required
@require_http_methods(["POST"])
def notice_acknowledge_view(request, slug, round_slug, pk, organisation_id):
    plan = plan_for_user(request.user, slug, round_slug)
    notice = get_object_or_404(VarianceNotice, pk=pk, plan=plan)
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    try:
        acknowledgement, new = notice_acknowledge(
            notice=notice, organisation=organisation, user=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("monitoring", slug=slug, round_slug=round_slug)
    if new:
        messages.success(request, f"Acknowledged for {organisation.name}.")
    else:
        messages.info(
            request,
            f"{organisation.name} had already acknowledged this notice, on "
            f"{timezone.localtime(acknowledgement.at):%-d %B %Y}: nothing has changed.",
        )
    return redirect("monitoring", slug=slug, round_slug=round_slug)


@login_required
def monitoring_pdf(request, slug, round_slug):
    """The monitoring report as a PDF, for anyone who may read the plan: printed by the task
    worker and kept; until it is ready this page says so and follows the print."""
    plan = plan_for_user(request.user, slug, round_slug)
    file = monitoring_pdf_ask(plan=plan)
    return paper_response(request, plan, file, monitoring_pdf_served)


def _return_context(request, plan, quarter, current, **shown) -> dict:
    """What the return's page draws: its figures against the submitted plan, its form as
    stored, its history, sign-off and comments (`shown`: a bound form in place of one)."""
    seal = submitted_seal(plan)
    stored, version = (current.content, current.version) if current else ({}, 0)
    figures = figures_for(seal, quarter.year_label, stored)
    comments, comment_count = return_comments(current)
    return {
        "plan": plan,
        "quarter": quarter,
        "refusal": "",
        "may_record": has_area_perm(request.user, EDIT_FINANCE, plan.area),
        "current": current,
        "figures": figures,
        "form": ReturnForm(figures=figures, content=stored, version=version),
        "upload": ReturnUploadForm(),
        "history": return_history(current),
        "signoff": return_signoff(current, request.user, seal),
        "comment_form": CommentForm(),
        "comments": comments,
        "comment_count": comment_count,
        **shown,
    }


def _return_found(request, slug, round_slug, quarter):
    plan = plan_for_user(request.user, slug, round_slug)
    found_quarter = quarter_find(plan, quarter)
    if found_quarter is None:
        raise Http404("No such quarter in this plan's years.")
    found = get_object_or_404(
        QuarterlyReturn, plan=plan, year=found_quarter.year_label, quarter=found_quarter.quarter
    )
    return plan, found_quarter, found


@login_required
@require_http_methods(["POST"])
def return_confirm_view(request, slug, round_slug, quarter, organisation_id):
    """A partner's finance lead confirms the version of the return they read."""
    plan, found_quarter, found = _return_found(request, slug, round_slug, quarter)
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    back = redirect("quarterly_return", slug=slug, round_slug=round_slug, quarter=quarter)
    try:
        _, new = return_confirm(
            found=found,
            organisation=organisation,
            user=request.user,
            read_digest=request.POST.get("digest", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return back
    if new:
        messages.success(request, f"The figures are confirmed for {organisation.name}.")
    else:
        messages.info(request, f"{organisation.name} had already confirmed this version.")
    return back


@login_required
@require_http_methods(["POST"])
def return_note_view(request, slug, round_slug, quarter):
    """The Board's chair notes the version every partner has confirmed."""
    plan, found_quarter, found = _return_found(request, slug, round_slug, quarter)
    back = redirect("quarterly_return", slug=slug, round_slug=round_slug, quarter=quarter)
    try:
        _, new = return_note(
            found=found, user=request.user, read_digest=request.POST.get("digest", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return back
    messages.success(
        request,
        "Noted for the Health and Wellbeing Board."
        if new
        else "The return had already been noted: nothing has changed.",
    )
    return back


UPLOAD_WORKBOOK_LIMIT = 5 * 1024 * 1024


def _return_import(request, context, plan, quarter, figures, stored):
    """An edited copy of the return's workbook, shown in the return's form as if typed there:
    checked as the form checks, saved only when the person saves it (against the version it
    was exported from, so a save made since is a conflict)."""
    upload = ReturnUploadForm(request.POST, request.FILES)
    context["upload"] = upload
    if not upload.is_valid():
        return render(request, "finance/return.html", context, status=400)
    file = upload.cleaned_data["workbook"]
    try:
        if file.size > UPLOAD_WORKBOOK_LIMIT:
            raise WorkbookProblem("The file is over 5 MB: a return's workbook is far smaller.")
        posted, version = return_workbook_read(
            file.read(), plan=plan, quarter=quarter, figures=figures
        )
    except WorkbookProblem as problem:
        upload.add_error("workbook", str(problem))
        return render(request, "finance/return.html", context, status=400)
    form = ReturnForm(posted, figures=figures, content=stored, version=version)
    form.is_valid()
    context.update(form=form, imported=file.name)
    return render(request, "finance/return.html", context, status=200 if form.is_valid() else 400)


@login_required
def quarterly_return_export(request, slug, round_slug, quarter):
    """The quarter's return as a workbook to fill in, for anyone who may read the plan."""
    plan = plan_for_user(request.user, slug, round_slug)
    found_quarter = quarter_find(plan, quarter)
    if found_quarter is None:
        raise Http404("No such quarter in this plan's years.")
    if refusal := return_refusal(plan, found_quarter, timezone.localdate()):
        return render(
            request,
            "finance/return.html",
            {"plan": plan, "quarter": found_quarter, "refusal": refusal},
            status=409,
        )
    data, name = return_export_xlsx(plan=plan, quarter=found_quarter, user=request.user)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["POST"])
def return_comment_view(request, slug, round_slug, quarter):
    """A comment on a recorded return; a blank or too long one is refused beside the box, with
    what was typed kept."""
    plan, found_quarter, found = _return_found(request, slug, round_slug, quarter)
    form = CommentForm(request.POST)
    if form.is_valid():
        return_comment_add(found=found, author=request.user, text=form.cleaned_data["text"])
        messages.success(request, "Your comment has been added.")
        return redirect(return_path(plan, found_quarter) + "#comments")
    context = _return_context(request, plan, found_quarter, found, comment_form=form)
    return render(request, "finance/return.html", context, status=400)
