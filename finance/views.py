from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from finance.forms import AllocationForm, AllocationsUploadForm
from finance.models import Allocation
from finance.parts import ArrangementsForm
from finance.services import (
    allocation_check,
    allocations_load,
    allocations_save,
    fund_contents,
    plan_charts_now,
    plan_fund_summary,
    risk_share_calculator,
)
from governance.permissions import plan_for_user, require_national_admin
from itf_portal.forms import errors_to_form
from plans.services import plan_current_round

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
    if request.method == "POST" and "upload" in request.POST:
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
        {"form": form, "upload": upload, "allocations": rows, "round": planning_round},
    )
