"""The plan's task list and its parts: edit, conflict, history, restore, presence, comments."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Window
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from finance.services import (
    fund_contents,
    part_restore,
    part_save,
    plan_fund_summary,
    risk_share_calculator,
)
from governance.models import Seal
from governance.permissions import (
    ASSIGN_PARTS,
    COMMENT_PLAN,
    has_area_perm,
    members_who_can,
    plan_for_user,
)
from governance.signoff import decision_log
from governance.workflow import plan_actions
from itf_portal.forms import CommentForm, DayMonthYearField, errors_to_form
from itf_portal.templatetags.nhsuk import person
from plans.constants import PartKey, PartStatus
from plans.diff import part_changes
from plans.exports.service import (
    paper_response,
    plan_export_xlsx,
    plan_pdf_ask,
    plan_pdf_served,
)
from plans.models import Comment
from plans.registry import PART_BY_KEY, PARTS, part_display, rows_overview
from plans.services import (
    PlanNotEditable,
    StaleEdit,
    comment_add,
    comment_resolve,
    part_assign,
    plan_editable,
    presence_others,
    presence_touch,
)
from plans.template import COVER

# The parts that show the pooled budget's totals and its minimum rule.
FUND_PARTS = {PartKey.SUMMARY, PartKey.CONTRIBUTIONS, PartKey.SCHEMES}
HISTORY_PAGE = 20  # versions of a part on a page of its history
COMMENTS_SHOWN = 10  # the latest comments on a part's page; all of them, paged, on their own
COMMENTS_PAGE = 20

STATUS_TAGS = {
    PartStatus.NOT_STARTED: "nhsuk-tag--grey",
    PartStatus.IN_PROGRESS: "nhsuk-tag--blue",
    PartStatus.READY_FOR_REVIEW: "nhsuk-tag--yellow",
    PartStatus.COMPLETE: "nhsuk-tag--green",
}


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Assigned to",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Nobody",
    )
    due_date = DayMonthYearField(label="Due date")

    def __init__(self, *args, plan, spec, **kwargs):
        super().__init__(*args, **kwargs)
        # A part is assigned to someone who can change it.
        self.fields["assignee"].queryset = members_who_can(
            plan.area, spec.edit_permission
        ).order_by("first_name", "last_name")
        self.fields["assignee"].help_text = "Only people who can change this part are listed."
        self.fields["assignee"].label_from_instance = person


def _spec(key: str):
    spec = PART_BY_KEY.get(key)
    if spec is None:
        raise Http404("No such part.")
    return spec


def _part(plan, key: str) -> tuple:
    spec = _spec(key)
    return spec, plan.parts.select_related("assignee", "updated_by").get(key=key)


def _part_url(plan, key: str, suffix: str = "") -> str:
    return reverse(
        f"part{suffix}",
        kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, "key": key},
    )


@login_required
def task_list(request, slug, round_slug):
    plan = plan_for_user(request.user, slug, round_slug)
    parts = {
        part.key: part
        # The list shows each part's state, not its content (300 schemes are 200 KB of it).
        for part in plan.parts.select_related("assignee")
        .defer("content")
        .annotate(open_comments=Count("comments", filter=Q(comments__resolved_at__isnull=True)))
    }
    groups: list[tuple[str, list]] = []
    for spec in PARTS:
        part = parts[spec.key]
        part.tag = STATUS_TAGS[part.status]
        if not groups or groups[-1][0] != spec.group:
            groups.append((spec.group, []))
        groups[-1][1].append((spec, part))
    complete = sum(1 for part in parts.values() if part.status == PartStatus.COMPLETE)
    return render(
        request,
        "plans/task_list.html",
        {
            "plan": plan,
            "groups": groups,
            "complete": complete,
            "total": len(PARTS),
            "seals": list(plan.seals.order_by("number").defer("snapshot")),
            "decisions": decision_log(plan),
            "actions": plan_actions(request.user, plan),
        },
    )


def _part_page(
    request,
    plan,
    spec,
    part,
    form,
    *,
    status=200,
    conflict=None,
    comment_form=None,
    assign_form=None,
    keep_form=False,
):
    others = presence_others(part=part, user=request.user)
    # The latest comments, oldest of them first; the rest are on the part's comments pages.
    # Each row also carries the counts of all the part's comments (a window over them all, so
    # the same query answers both).
    comments = list(
        _comments_newest_first(part).annotate(
            total=Window(Count("pk")),
            open=Window(Count("pk", filter=Q(resolved_at__isnull=True))),
        )[:COMMENTS_SHOWN]
    )[::-1]
    open_comments, all_comments = (comments[0].open, comments[0].total) if comments else (0, 0)
    editable = plan_editable(plan)
    return render(
        request,
        "plans/conflict.html" if conflict else "plans/part.html",
        {
            "plan": plan,
            "spec": spec,
            "part": part,
            "form": form,
            "conflict": conflict,
            # A long table's rows are read in its overview, each on its own page.
            "display": part_display(spec, plan, part.content, table=not spec.form.rows_apart),
            "overview": rows_overview(spec, plan, part.content),
            "rows_url": _part_url(plan, spec.key) + "rows/",
            "presence": presence_text(others),
            "comments": comments,
            "open_comments": open_comments,
            "all_comments": all_comments,
            "comment_form": comment_form or CommentForm(),
            "can_edit": editable and has_area_perm(request.user, spec.edit_permission, plan.area),
            # A refused save still shows what the person typed, so they can copy it.
            "keep_form": keep_form,
            "can_comment": has_area_perm(request.user, COMMENT_PLAN, plan.area),
            "can_assign": has_area_perm(request.user, ASSIGN_PARTS, plan.area),
            "assign_form": assign_form
            or AssignForm(
                plan=plan,
                spec=spec,
                initial={"assignee": part.assignee_id, "due_date": part.due_date},
            ),
            "frozen_reason": None if editable else plan.get_state_display(),
            "tag": STATUS_TAGS[part.status],
            "fund": plan_fund_summary(plan, fund_contents(plan, part))
            if spec.key in FUND_PARTS
            else None,
            "cover": COVER,
            # Empty: it is worked out on its own page (finance.views.risk_share), never by
            # reloading this one, which would throw away what the person has typed here.
            "calculator": risk_share_calculator(plan, "", "")
            if spec.key == PartKey.ARRANGEMENTS
            else None,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def part_page(request, slug, round_slug, key):
    plan = plan_for_user(request.user, slug, round_slug)
    spec, part = _part(plan, key)
    if request.method == "GET":
        form = spec.page_form(
            plan=plan, content=part.content, version=part.version, status=part.status
        )
        return _part_page(request, plan, spec, part, form)

    plan = plan_for_user(request.user, slug, round_slug, spec.edit_permission)
    form = spec.page_form(
        request.POST, plan=plan, content=part.content, version=part.version, status=part.status
    )
    if not form.is_valid():
        return _part_page(request, plan, spec, part, form, status=400)
    try:
        saved = part_save(
            part=part,
            content=form.content(),
            status=form.cleaned_data["status"],
            base_version=form.cleaned_data["base_version"],
            user=request.user,
        )
    except StaleEdit as stale:
        # Keep every word the person wrote; base the next save on what is there now.
        data = request.POST.copy()
        data["base_version"] = str(stale.current.version)
        mine = spec.page_form(data, plan=plan, content=stale.current.content)
        mine.is_valid()
        conflict = {
            "current": stale.current,
            "changes": part_changes(spec, stale.current.content, mine.content()),
            "display": part_display(
                spec, plan, stale.current.content, table=not spec.form.rows_apart
            ),
        }
        return _part_page(request, plan, spec, stale.current, mine, status=409, conflict=conflict)
    except PlanNotEditable as frozen:
        messages.error(request, f"{frozen} Your text below has not been saved.")
        return _part_page(request, plan, spec, part, form, status=409, keep_form=True)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _part_page(request, plan, spec, part, form, status=400)
    if "add_row" in request.POST:
        return redirect(_part_url(plan, key) + f"#rows-{len(saved.content.get('rows', []))}-form")
    messages.success(request, f"{spec.title} saved ({saved.get_status_display().lower()}).")
    return redirect("task_list", slug=slug, round_slug=round_slug)


@login_required
def part_history(request, slug, round_slug, key):
    """A part's versions, newest first, a page at a time: only the page's differences are
    worked out, each against the version before it (one more is read for the page's last)."""
    plan = plan_for_user(request.user, slug, round_slug)
    spec, part = _part(plan, key)
    history = part.history.select_related("history_user").order_by("-history_id")
    page = Paginator(history, HISTORY_PAGE).get_page(request.GET.get("page"))
    start = (page.number - 1) * HISTORY_PAGE
    records = list(history[start : start + HISTORY_PAGE + 1])
    versions = []
    for index, record in enumerate(records[:HISTORY_PAGE]):
        before = records[index + 1] if index + 1 < len(records) else None
        changes = part_changes(spec, before.content if before else {}, record.content)
        versions.append(
            {
                "record": record,
                "changes": changes,
                "first": before is None,
                "latest": start + index == 0,
            }
        )
    return render(
        request,
        "plans/history.html",
        {
            "plan": plan,
            "spec": spec,
            "part": part,
            "versions": versions,
            "page": page,
            "can_edit": plan_editable(plan)
            and has_area_perm(request.user, spec.edit_permission, plan.area),
        },
    )


@login_required
@require_POST
def part_restore_view(request, slug, round_slug, key, history_id):
    plan = plan_for_user(request.user, slug, round_slug, _spec(key).edit_permission)
    spec, part = _part(plan, key)
    try:
        base_version = int(request.POST.get("base_version", ""))
        restored = part_restore(
            part=part, history_id=history_id, base_version=base_version, user=request.user
        )
    except (ValueError, StaleEdit):
        messages.error(
            request,
            "Someone saved this part while you were looking at its history. Nothing was "
            "restored: look at the history again and choose the version to restore.",
        )
        return redirect(_part_url(plan, key, "_history"))
    except (PlanNotEditable, ValidationError) as refusal:
        messages.error(request, " ".join(getattr(refusal, "messages", [str(refusal)])))
        return redirect(_part_url(plan, key, "_history"))
    messages.success(request, f"{spec.title} restored as version {restored.version}.")
    return redirect(_part_url(plan, key))


@login_required
@require_POST
def part_presence(request, slug, round_slug, key):
    plan = plan_for_user(request.user, slug, round_slug)
    _, part = _part(plan, key)
    others = presence_touch(part=part, user=request.user)
    # Plain text, which the page sets as text: a name such as O'Brien is shown as written.
    return JsonResponse({"text": presence_text(others)})


def presence_text(others) -> str:
    """Who else has the part open, in words."""
    if not others:
        return "Nobody else has this part open."
    names = ", ".join(person(viewer) for viewer in others)
    return (
        f"Also open now by: {names}. Their saves and yours are checked against each other, "
        "so nothing is lost."
    )


@login_required
@require_POST
def part_assign_view(request, slug, round_slug, key):
    plan = plan_for_user(request.user, slug, round_slug, ASSIGN_PARTS)
    spec, part = _part(plan, key)
    form = AssignForm(request.POST, plan=plan, spec=spec)
    if form.is_valid():
        try:
            part_assign(part=part, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
    if form.errors:
        # Shown again beside the part, with the date as it was typed.
        page_form = spec.page_form(
            plan=plan, content=part.content, version=part.version, status=part.status
        )
        return _part_page(request, plan, spec, part, page_form, status=400, assign_form=form)
    messages.success(request, f"{spec.title}: assignment saved.")
    return redirect(_part_url(plan, key))


@login_required
@require_POST
def comment_add_view(request, slug, round_slug, key):
    plan = plan_for_user(request.user, slug, round_slug, COMMENT_PLAN)
    spec, part = _part(plan, key)
    form = CommentForm(request.POST)
    if not form.is_valid():
        page_form = spec.page_form(
            plan=plan, content=part.content, version=part.version, status=part.status
        )
        return _part_page(request, plan, spec, part, page_form, status=400, comment_form=form)
    comment_add(part=part, author=request.user, text=form.cleaned_data["text"])
    messages.success(request, "Comment posted.")
    return redirect(_part_url(plan, key) + "#comments")


@login_required
@require_POST
def comment_resolve_view(request, slug, round_slug, key, pk, resolved):
    plan = plan_for_user(request.user, slug, round_slug, COMMENT_PLAN)
    _, part = _part(plan, key)
    comment = get_object_or_404(Comment, pk=pk, part=part)
    comment_resolve(comment=comment, user=request.user, resolved=resolved)
    messages.success(request, "Comment resolved." if resolved else "Comment reopened.")
    page = request.POST.get("comments_page", "")
    if page.isascii() and page.isdigit():  # from a page of all the comments: back to it
        return redirect(_part_url(plan, key, "_comments") + f"?page={page}")
    return redirect(_part_url(plan, key) + "#comments")


def _comments_newest_first(part):
    return part.comments.select_related("author", "resolved_by").order_by("-created_at", "-pk")


@login_required
def part_comments(request, slug, round_slug, key):
    """All of a part's comments, newest first, a page at a time."""
    plan = plan_for_user(request.user, slug, round_slug)
    spec, part = _part(plan, key)
    page = Paginator(_comments_newest_first(part), COMMENTS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "plans/comments.html",
        {
            "plan": plan,
            "spec": spec,
            "page": page,
            "comments": page.object_list,
            "can_comment": has_area_perm(request.user, COMMENT_PLAN, plan.area),
        },
    )


@login_required
def plan_export(request, slug, round_slug, number=None):
    """The plan as the NHS England Excel template, for anyone who may read the plan (`number`:
    that sealed version, whatever the plan is now)."""
    plan = plan_for_user(request.user, slug, round_slug)
    try:
        data, name = plan_export_xlsx(plan=plan, user=request.user, number=number)
    except Seal.DoesNotExist as missing:
        raise Http404("There is no such sealed version.") from missing
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def plan_export_pdf(request, slug, round_slug, number=None):
    """The plan as a PDF board paper, for anyone who may read the plan (`number`: that sealed
    version's). The task worker prints it (a large plan can take a while) and the file is kept:
    until it is ready this page says so and follows the print, then the same address downloads
    it."""
    plan = plan_for_user(request.user, slug, round_slug)
    try:
        file = plan_pdf_ask(plan=plan, number=number)
    except Seal.DoesNotExist as missing:
        raise Http404("There is no such sealed version.") from missing
    return paper_response(request, plan, file, plan_pdf_served)
