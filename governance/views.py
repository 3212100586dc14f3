from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from governance.forms import MemberAddForm
from governance.models import Membership
from governance.permissions import MANAGE_MEMBERS, area_for_user
from governance.services import member_add_by_email, membership_remove
from itf_portal.forms import errors_to_form


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
