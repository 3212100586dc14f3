from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from governance.attention import attention_for_user
from governance.constants import Role
from governance.milestones import overdue_counts
from governance.models import Membership
from governance.permissions import (
    MANAGE_MEMBERS,
    area_for_user,
    areas_for_user,
    has_area_perm,
    is_national_admin,
    require_national_admin,
)
from itf_portal.forms import errors_to_form
from plans.forms import AreaForm, OrganisationForm
from plans.models import Area, Organisation, Partnership, Plan
from plans.registry import PARTS
from plans.services import area_save, organisation_save, plan_current_round, plan_progress


def _with_partners(areas):
    return areas.prefetch_related(
        Prefetch("partnerships", queryset=Partnership.objects.select_related("organisation"))
    )


@login_required
def dashboard(request):
    areas = list(_with_partners(areas_for_user(request.user)))
    national = is_national_admin(request.user)
    if not areas and not national:
        return render(request, "plans/no_area.html", status=200)
    roles: dict[int, list[str]] = {}
    for area_id, role in request.user.memberships.values_list("partnership__area_id", "role"):
        roles.setdefault(area_id, []).append(Role(role).label)
    current = plan_current_round()
    progress = plan_progress(round=current, areas=areas)
    plans = list(Plan.objects.filter(round=current, area__in=areas))
    overdue = overdue_counts(plans)
    overdue_by_area = {plan.area_id: overdue[plan.pk] for plan in plans}
    states = {plan.area_id: plan.get_state_display() for plan in plans}
    for area in areas:
        area.plan_state = states.get(area.pk, "")
        area.my_roles = sorted(set(roles.get(area.pk, [])))
        area.progress = progress.get(area.pk)
        area.overdue = overdue_by_area.get(area.pk)
    return render(
        request,
        "plans/dashboard.html",
        {
            "areas": areas,
            "is_national_admin": national,
            "round": current,
            "total": len(PARTS),
            "attention": attention_for_user(request.user),
        },
    )


@login_required
def area_detail(request, slug):
    area = area_for_user(request.user, slug)
    partnerships = list(area.partnerships.select_related("organisation"))
    memberships = list(
        Membership.objects.filter(partnership__area=area).select_related(
            "user", "partnership__organisation"
        )
    )
    return render(
        request,
        "plans/area_detail.html",
        {
            "area": area,
            "partnerships": partnerships,
            "memberships": memberships,
            "can_manage_members": has_area_perm(request.user, MANAGE_MEMBERS, area),
            "can_edit_area": is_national_admin(request.user),
            "round": plan_current_round(),
        },
    )


def _area_form_page(request, area: Area | None):
    if request.method == "POST":
        form = AreaForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = area_save(
                    area=area,
                    name=data["name"],
                    slug=data["slug"],
                    boundary_differences=data["boundary_differences"],
                    partners=[data["local_authority"], *data["ccgs"]],
                )
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                messages.success(request, f"{saved.name} saved.")
                return redirect("area_detail", slug=saved.slug)
    else:
        form = AreaForm(initial=AreaForm.initial_for(area) if area else None)
    return render(request, "plans/area_form.html", {"form": form, "area": area})


@login_required
@require_http_methods(["GET", "POST"])
def area_create(request):
    require_national_admin(request.user)
    return _area_form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def area_edit(request, slug):
    require_national_admin(request.user)
    return _area_form_page(request, get_object_or_404(Area, slug=slug))


@login_required
def organisation_list(request):
    require_national_admin(request.user)
    organisations = Organisation.objects.prefetch_related("areas")
    return render(request, "plans/organisation_list.html", {"organisations": organisations})


@login_required
@require_http_methods(["GET", "POST"])
def organisation_form(request, pk=None):
    require_national_admin(request.user)
    organisation = get_object_or_404(Organisation, pk=pk) if pk else None
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                saved = organisation_save(organisation=organisation, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                messages.success(request, f"{saved.name} saved.")
                return redirect("organisation_list")
    else:
        initial = {"name": organisation.name, "kind": organisation.kind} if organisation else None
        form = OrganisationForm(initial=initial)
    return render(
        request, "plans/organisation_form.html", {"form": form, "organisation": organisation}
    )
