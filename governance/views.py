from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from governance.forms import MemberAddForm
from governance.models import Membership, Seal
from governance.permissions import (
    MANAGE_MEMBERS,
    REOPEN_PLAN,
    SUBMIT_PLAN,
    area_for_user,
    has_area_perm,
    plan_for_user,
)
from governance.services import member_add_by_email, membership_remove
from governance.signoff import (
    StateConflict,
    plan_reopen,
    plan_submit_for_signoff,
    readiness_checks,
)
from itf_portal.forms import errors_to_form
from plans.constants import PlanState
from plans.registry import PARTS, part_display


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request, slug):
    area = area_for_user(request.user, slug, MANAGE_MEMBERS)
    form = MemberAddForm(request.POST or None, area=area)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership, created = member_add_by_email(
                area=area,
                site_url=request.build_absolute_uri("/"),
                **data,
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            who = membership.user.get_full_name() or membership.user.email
            note = " They have been emailed a link to choose their password." if created else ""
            messages.success(
                request,
                f"{who} is now {membership.get_role_display().lower()} for "
                f"{membership.partnership.organisation.name}.{note}",
            )
            return redirect("area_detail", slug=area.slug)
    return render(request, "governance/member_add.html", {"area": area, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request, slug, pk):
    area = area_for_user(request.user, slug, MANAGE_MEMBERS)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "partnership__organisation"),
        pk=pk,
        partnership__area=area,
    )
    error = None
    if request.method == "POST":
        try:
            membership_remove(membership=membership)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            who = membership.user.get_full_name() or membership.user.username
            messages.success(
                request, f"{who} is no longer {membership.get_role_display().lower()}."
            )
            return redirect("area_detail", slug=area.slug)
    return render(
        request,
        "governance/member_remove.html",
        {"area": area, "membership": membership, "error": error},
        status=409 if error else 200,
    )


def _plan_url(plan) -> str:
    return reverse("task_list", kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug})


@login_required
@require_http_methods(["GET", "POST"])
def readiness(request, slug, round_slug):
    """ "Check the plan before sign-off", and the button that submits it."""
    plan = plan_for_user(request.user, slug, round_slug)
    problems, status = [], 200
    if request.method == "POST":
        plan = plan_for_user(request.user, slug, round_slug, SUBMIT_PLAN)
        try:
            seal = plan_submit_for_signoff(plan=plan, user=request.user)
        except ValidationError as refusal:
            problems, status = refusal.messages, 400
        except StateConflict as conflict:
            problems, status = [str(conflict)], 409
        else:
            messages.success(
                request,
                f"Submitted for sign-off as sealed version {seal.number}. The plan cannot be "
                "changed now unless an area admin reopens it.",
            )
            return redirect(_plan_url(plan))
        plan.refresh_from_db()
    checks = readiness_checks(plan)
    return render(
        request,
        "governance/readiness.html",
        {
            "plan": plan,
            "checks": checks,
            "ready": all(check.passed for check in checks),
            "problems": problems,
            "can_submit": plan.state == PlanState.DRAFTING
            and has_area_perm(request.user, SUBMIT_PLAN, plan.area),
        },
        status=status,
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="Why are you reopening the plan?",
        help_text="The signatories are told, and the reason is kept in the plan's decision log.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say why the plan is being reopened."},
    )


@login_required
@require_http_methods(["GET", "POST"])
def reopen(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug, REOPEN_PLAN)
    form = ReopenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            plan_reopen(plan=plan, user=request.user, reason=form.cleaned_data["reason"])
        except StateConflict as conflict:
            form.add_error(None, str(conflict))
            status = 409
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "The plan is back in Drafting and can be edited.")
            return redirect(_plan_url(plan))
    return render(request, "governance/reopen.html", {"plan": plan, "form": form}, status=status)


@login_required
def sealed_version(request, slug, round_slug, number):
    """Exactly the text and figures that were sealed, whatever the plan says now."""
    plan = plan_for_user(request.user, slug, round_slug)
    seal = get_object_or_404(Seal.objects.select_related("created_by"), plan=plan, number=number)
    parts = seal.snapshot.get("parts", {})
    sections = [
        {"spec": spec, "display": part_display(spec, plan, parts.get(spec.key, {}).get("content"))}
        for spec in PARTS
    ]
    return render(
        request, "governance/sealed.html", {"plan": plan, "seal": seal, "sections": sections}
    )
