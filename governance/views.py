from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from governance.forms import MemberAddForm
from governance.milestones import milestone_overdue, milestones_for, milestones_set
from governance.models import Membership, Seal
from governance.permissions import (
    APPROVE_PLAN,
    ASSIGN_PARTS,
    MANAGE_MEMBERS,
    MARK_SUBMITTED,
    REOPEN_PLAN,
    SUBMIT_PLAN,
    WHO_CAN,
    area_for_user,
    has_area_perm,
    plan_for_user,
    require_national_admin,
)
from governance.services import member_add_by_email, membership_remove
from governance.signoff import (
    StateConflict,
    plan_approve,
    plan_decline,
    plan_mark_submitted,
    plan_reopen,
    plan_submit_for_signoff,
    readiness_checks,
    seal_find,
    signature_add,
)
from governance.workflow import partners_to_sign, plan_actions
from itf_portal.forms import DayMonthYearField, errors_to_form
from itf_portal.models import Email
from itf_portal.tasks import email_resend
from plans.diff import frame_changes, part_changes
from plans.registry import PART_BY_KEY, PARTS, part_display
from plans.snapshot import snapshot_frame
from plans.template import COVER


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
                actor=request.user,
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


def _fix(user, plan, check) -> dict:
    """A check with what this person can do about it: go to the part and fix it, or read it and
    know who can change it."""
    permission = PART_BY_KEY[check.part].edit_permission if check.part else ""
    return {
        "check": check,
        "can_fix": bool(permission) and has_area_perm(user, permission, plan.area),
        "who": WHO_CAN.get(permission, ""),
    }


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
            "rows": [_fix(request.user, plan, check) for check in checks],
            "ready": all(check.passed for check in checks),
            "problems": problems,
            "actions": plan_actions(request.user, plan),
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
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to reopen the plan."},
    )


@login_required
@require_http_methods(["GET", "POST"])
def reopen(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug, REOPEN_PLAN)
    form = ReopenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            plan_reopen(
                plan=plan,
                user=request.user,
                reason=form.cleaned_data["reason"],
                password=form.cleaned_data["password"],
                request=request,
            )
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
    frame = snapshot_frame(seal.snapshot)
    sections = [
        {"spec": spec, "display": part_display(spec, frame, parts.get(spec.key, {}).get("content"))}
        for spec in PARTS
    ]
    return render(
        request, "governance/sealed.html", {"plan": plan, "seal": seal, "sections": sections}
    )


class SignForm(forms.Form):
    # The seal of the version the person read: a post for any other version is refused.
    seal = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "Reload the page to see the version you are signing."},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to sign."},
    )
    position = forms.CharField(
        label="Your position (job title)",
        max_length=200,
        error_messages={"required": "Confirm your position (job title)."},
    )


class DeclineForm(forms.Form):
    seal = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "Reload the page to see the version you are signing."},
    )
    reason = forms.CharField(
        label="Why are you declining?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why you are declining, so the authors can act on it."},
    )
    password = forms.CharField(
        label="Your password, to confirm you decline",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to decline."},
    )


class ApproveForm(forms.Form):
    seal = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "Reload the page to see the version you are signing."},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to approve."},
    )
    agreed_on = DayMonthYearField(
        label=COVER.hwb_agreed_on,
        name="Date agreed",
        required=True,
        error_messages={"required": "Enter the date agreed at the Health and Wellbeing Board."},
    )


class MarkSubmittedForm(forms.Form):
    submitted_on = DayMonthYearField(
        label="Date submitted",
        required=True,
        error_messages={"required": "Enter the date submitted."},
    )


def _signoff_page(request, plan, *, status=200, forms_in_error=None, problem=""):
    seal = plan.seals.order_by("-number").first()
    signatures = (
        {s.organisation_id: s for s in seal.signatures.filter(withdrawn_at__isnull=True)}
        if seal
        else {}
    )
    actions = plan_actions(request.user, plan)
    to_sign = partners_to_sign(actions, signatures)
    read = {"seal": seal.digest if seal else ""}
    forms_in_error = forms_in_error or {}
    partners = [
        {
            "organisation": organisation,
            "signature": signatures.get(organisation.pk),
            "can_sign": organisation.pk in to_sign,
            "sign_form": forms_in_error.get(("sign", organisation.pk))
            or SignForm(prefix=f"sign{organisation.pk}", initial=read),
            "decline_form": forms_in_error.get(("decline", organisation.pk))
            or DeclineForm(prefix=f"decline{organisation.pk}", initial=read),
        }
        for organisation in plan.partner_organisations
    ]
    return render(
        request,
        "governance/signoff.html",
        {
            "plan": plan,
            "seal": seal,
            "partners": partners,
            "problem": problem,
            "actions": actions,
            "approve_form": forms_in_error.get("approve") or ApproveForm(initial=read),
            "submitted_form": forms_in_error.get("submitted") or MarkSubmittedForm(),
            "cover": COVER,
        },
        status=status,
    )


@login_required
def signoff(request, slug, round_slug):
    return _signoff_page(request, plan_for_user(request.user, slug, round_slug))


def _signoff_move(request, plan, form, key, move, success: str):
    """Run one sign-off move from a posted form; show the page again with the reason if refused."""
    if not form.is_valid():
        return _signoff_page(request, plan, status=400, forms_in_error={key: form})
    try:
        move(form.cleaned_data)
    except PermissionDenied:
        raise
    except StateConflict as conflict:
        return _signoff_page(request, plan, status=409, problem=str(conflict))
    except ValidationError as error:
        errors_to_form(form, error)
        return _signoff_page(request, plan, status=400, forms_in_error={key: form})
    messages.success(request, success)
    return redirect("signoff", slug=plan.area.slug, round_slug=plan.round.slug)


@login_required
@require_POST
def sign(request, slug, round_slug, organisation_id):
    plan = plan_for_user(request.user, slug, round_slug)
    organisation = get_object_or_404(plan.area.partners, pk=organisation_id)
    form = SignForm(request.POST, prefix=f"sign{organisation.pk}")
    return _signoff_move(
        request,
        plan,
        form,
        ("sign", organisation.pk),
        lambda data: signature_add(
            plan=plan,
            user=request.user,
            organisation=organisation,
            request=request,
            password=data["password"],
            position=data["position"],
            read_seal=data["seal"],
        ),
        f"Signed on behalf of {organisation.name}.",
    )


@login_required
@require_POST
def decline(request, slug, round_slug, organisation_id):
    plan = plan_for_user(request.user, slug, round_slug)
    organisation = get_object_or_404(plan.area.partners, pk=organisation_id)
    form = DeclineForm(request.POST, prefix=f"decline{organisation.pk}")
    return _signoff_move(
        request,
        plan,
        form,
        ("decline", organisation.pk),
        lambda data: plan_decline(
            plan=plan,
            user=request.user,
            organisation=organisation,
            reason=data["reason"],
            password=data["password"],
            request=request,
            read_seal=data["seal"],
        ),
        "You declined. The plan is back in Drafting and its authors have been told.",
    )


@login_required
@require_POST
def approve(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug, APPROVE_PLAN)
    return _signoff_move(
        request,
        plan,
        ApproveForm(request.POST),
        "approve",
        lambda data: plan_approve(
            plan=plan,
            user=request.user,
            request=request,
            password=data["password"],
            agreed_on=data["agreed_on"],
            read_seal=data["seal"],
        ),
        "Approved on behalf of the Health and Wellbeing Board.",
    )


@login_required
@require_POST
def mark_submitted(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug, MARK_SUBMITTED)
    return _signoff_move(
        request,
        plan,
        MarkSubmittedForm(request.POST),
        "submitted",
        lambda data: plan_mark_submitted(plan=plan, user=request.user, **data),
        "Marked as submitted to NHS England.",
    )


class VerifyForm(forms.Form):
    seal = forms.CharField(
        label="Seal",
        max_length=100,
        help_text="The 64-character SHA-256 seal printed on an exported or printed copy.",
        error_messages={"required": "Paste the seal to check."},
    )


@login_required
def verify(request):
    """Anyone signed in can check a printed or exported copy against the record."""
    form = VerifyForm(request.GET or None)
    seal = None
    searched = form.is_bound and form.is_valid()
    if searched:
        seal = seal_find(form.cleaned_data["seal"])
    signatures = list(seal.signatures.select_related("organisation")) if seal else []
    return render(
        request,
        "governance/verify.html",
        {"form": form, "seal": seal, "searched": searched, "signatures": signatures},
    )


@login_required
def sealed_compare(request, slug, round_slug, number, other):
    """What changed between two sealed versions, part by part."""
    plan = plan_for_user(request.user, slug, round_slug)
    older = get_object_or_404(Seal, plan=plan, number=min(number, other))
    newer = get_object_or_404(Seal, plan=plan, number=max(number, other))
    before, after = older.snapshot.get("parts", {}), newer.snapshot.get("parts", {})
    sections = [
        {
            "spec": spec,
            "changes": part_changes(
                spec,
                (before.get(spec.key) or {}).get("content"),
                (after.get(spec.key) or {}).get("content"),
            ),
        }
        for spec in PARTS
    ]
    return render(
        request,
        "governance/sealed_compare.html",
        {
            "plan": plan,
            "older": older,
            "newer": newer,
            "frame": frame_changes(older.snapshot, newer.snapshot),
            "sections": sections,
        },
    )


class MilestonesForm(forms.Form):
    def __init__(self, *args, milestones, **kwargs):
        super().__init__(*args, **kwargs)
        for milestone in milestones:
            label = milestone.get_kind_display()
            for suffix, what, value in (
                ("due", "date", milestone.due_on),
                ("done", "done on", milestone.done_on),
            ):
                name = f"{milestone.kind}_{suffix}"
                self.fields[name] = DayMonthYearField(label=f"{label}: {what}")
                self.initial[name] = value

    def dates(self) -> dict:
        kinds = {name.rsplit("_", 1)[0] for name in self.fields}
        return {
            kind: (self.cleaned_data.get(f"{kind}_due"), self.cleaned_data.get(f"{kind}_done"))
            for kind in kinds
        }


@login_required
@require_http_methods(["GET", "POST"])
def milestones(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug)
    items = milestones_for(plan)
    can_edit = has_area_perm(request.user, ASSIGN_PARTS, plan.area)
    form = MilestonesForm(request.POST or None, milestones=items)
    if request.method == "POST":
        plan_for_user(request.user, slug, round_slug, ASSIGN_PARTS)
        if form.is_valid():
            try:
                milestones_set(plan=plan, user=request.user, dates=form.dates())
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                messages.success(request, "Milestones saved.")
                return redirect("milestones", slug=slug, round_slug=round_slug)
    today = timezone.localdate()
    rows = [
        {
            "milestone": m,
            "overdue": milestone_overdue(m, plan, today),
            "due": form[f"{m.kind}_due"],
            "done": form[f"{m.kind}_done"],
        }
        for m in items
    ]
    return render(
        request,
        "governance/milestones.html",
        {"plan": plan, "form": form, "rows": rows, "can_edit": can_edit},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def email_outbox(request):
    """National admins see every email not yet sent, and send a failed or stuck one again."""
    require_national_admin(request.user, "Only national admins can see the outbox.")
    if request.method == "POST":
        chosen = request.POST.get("email", "")
        if not (chosen.isascii() and chosen.isdigit()):
            raise Http404("No such email.")
        email = get_object_or_404(Email.objects.needing_an_admin(), pk=int(chosen))
        email_resend(email=email)
        messages.success(request, f"“{email.subject}” will be sent again.")
        return redirect("email_outbox")
    unsent = list(Email.objects.exclude(status=Email.SENT)[:200])
    return render(request, "governance/outbox.html", {"emails": unsent})
