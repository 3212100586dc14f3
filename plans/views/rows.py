"""The rows of a long table part (schemes, key risks), each on its own page: change, add,
move and remove one row at a time, under the part's overview (`plans.registry.rows_overview`).
Each save is checked against the part's version as any part's is (`part_row_save`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from finance.services import part_row_save
from governance.permissions import has_area_perm, plan_for_user
from plans.diff import part_changes
from plans.parts import row_page_form, shown_cell
from plans.services import PlanNotEditable, StaleEdit, plan_editable, row_fingerprint, row_now
from plans.views.parts import _part, _part_url


def _rows(plan, key: str, number: int | None, *, gone_is_stale=False):
    """The part and its rows; row `number` must be there (a save for a row removed since its page
    was drawn is for `part_row_save` to refuse as stale, with the conflict page)."""
    spec, part = _part(plan, key)
    if not spec.form.rows_apart:
        raise Http404("This part's rows are edited together on the part's page.")
    rows = spec.content.rows_shown(part.content)
    missing = number is not None and not 1 <= number <= len(rows)
    if missing and not (gone_is_stale and number >= 1):
        raise Http404(f"There is no {spec.row_label.lower()} {number}.")
    return spec, part, rows


def _row_url(plan, key: str, number: int | None, suffix: str = "") -> str:
    place = f"{number}/" if number else "new/"
    return _part_url(plan, key) + "rows/" + place + suffix


def row_initial(form_class, plan, part, rows, number: int | None) -> dict:
    """What a row's page shows: the stored row (none for a new one), the part's version, the
    row's fingerprint as drawn, and its position (a new row goes last)."""
    row = rows[number - 1] if number and number <= len(rows) else None
    return {
        **(form_class.initial_from(row, plan) if row else {}),
        "base_version": part.version,
        "was": row_fingerprint(row) if row else "",
        "position": number or len(rows) + 1,
    }


def _row_page(
    request, plan, spec, part, rows, number, form, *, status=200, conflict=None, keep_form=False
):
    label = spec.row_label
    row = rows[number - 1] if number and number <= len(rows) else None
    read = _read_row(spec, plan, row) if row else []
    heading = f"{label} {number}" if number else f"Add a {label.lower()}"
    if row:
        heading = f"{label} {number}" + (f": {read[0][1]}" if read[0][1] else "")
    editable = plan_editable(plan)
    return render(
        request,
        "plans/row.html",
        {
            "plan": plan,
            "spec": spec,
            "part": part,
            "form": form,
            "number": number,
            "row": row,
            "heading": heading,
            "read": read,
            "action": _row_url(plan, spec.key, number),
            "conflict": conflict,
            "can_edit": editable and has_area_perm(request.user, spec.edit_permission, plan.area),
            # A refused save still shows what the person typed, so they can copy it.
            "keep_form": keep_form,
            "frozen_reason": None if editable else plan.get_state_display(),
        },
        status=status,
    )


def _read_row(spec, plan, row: dict) -> list[tuple[str, str]]:
    model = spec.form.row_form.content_model
    return [
        (getattr(item, "header", None) or item.label, shown_cell(item, row, model))
        for item in spec.form.row_form.shown_cells(plan)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def row_page(request, slug, round_slug, key, number=None):
    """One row on its own page: read it, or change and move it; with no number, add one."""
    plan = plan_for_user(request.user, slug, round_slug)
    posting = request.method == "POST"
    spec, part, rows = _rows(plan, key, number, gone_is_stale=posting)
    if number is None or posting:
        plan = plan_for_user(request.user, slug, round_slug, spec.edit_permission)
    form_class = row_page_form(spec.form.row_form)
    count = len(rows) if number and number <= len(rows) else len(rows) + 1
    initial = row_initial(form_class, plan, part, rows, number)
    if request.method == "GET":
        form = form_class(plan=plan, initial=initial, prefix="row", count=count)
        return _row_page(request, plan, spec, part, rows, number, form)

    form = form_class(request.POST, plan=plan, initial=initial, prefix="row", count=count)
    if not form.is_valid():
        return _row_page(request, plan, spec, part, rows, number, form, status=400)
    position = form.cleaned_data["position"]
    try:
        saved = part_row_save(
            part=part,
            number=number,
            was=form.cleaned_data["was"],
            row=form.content(),
            # Left where it was drawn: where the row is now, after colleagues' changes.
            position=None if position == number else position,
            base_version=form.cleaned_data["base_version"],
            user=request.user,
        )
    except StaleEdit as stale:
        return _row_conflict(request, plan, spec, number, form, stale.current)
    except PlanNotEditable as frozen:
        messages.error(request, f"{frozen} What you typed below has not been saved.")
        return _row_page(request, plan, spec, part, rows, number, form, status=409, keep_form=True)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _row_page(request, plan, spec, part, rows, number, form, status=400)
    kept = spec.content.rows_shown(saved.content)
    place = min(position, len(kept))
    messages.success(request, f"{spec.row_label} {place} saved.")
    return redirect(_part_url(plan, key) + f"#row-{place}")


def _row_conflict(request, plan, spec, number, form, current):
    """Someone changed or removed this row since the page was drawn: show the row as it is now
    beside what the person typed (kept in the form), the next save based on what is there."""
    rows = spec.content.rows_shown(current.content)
    # Which row the one being edited has become (a colleague changed it), if that can be told.
    there = row_now(current, form.cleaned_data["base_version"], number) if number else None
    data = request.POST.copy()
    data["row-base_version"] = str(current.version)
    data["row-was"] = row_fingerprint(rows[there - 1]) if there else ""
    count = len(rows) if there else len(rows) + 1
    if not there:
        data["row-position"] = str(count)
    mine = row_page_form(spec.form.row_form)(data, plan=plan, prefix="row", count=count)
    mine.is_valid()
    changes = []
    if there:
        yours = list(rows)
        yours[there - 1] = form.content()
        changes = part_changes(spec, {"rows": rows}, {"rows": yours})
    conflict = {"current": current, "changes": changes, "gone": not there}
    return _row_page(request, plan, spec, current, rows, there, mine, status=409, conflict=conflict)


@login_required
@require_http_methods(["GET", "POST"])
def row_remove(request, slug, round_slug, key, number):
    """Ask, then remove one row: only the row as it was shown is removed."""
    plan = plan_for_user(request.user, slug, round_slug)
    spec, part, rows = _rows(plan, key, number, gone_is_stale=request.method == "POST")
    plan = plan_for_user(request.user, slug, round_slug, spec.edit_permission)
    if request.method == "GET":
        row = rows[number - 1]
        return render(
            request,
            "plans/row_remove.html",
            {
                "plan": plan,
                "spec": spec,
                "part": part,
                "number": number,
                "read": _read_row(spec, plan, row)[:2],
                "was": row_fingerprint(row),
                "can_edit": plan_editable(plan),
            },
        )
    try:
        base_version = int(request.POST.get("base_version", ""))
    except ValueError:
        base_version = -1
    try:
        part_row_save(
            part=part,
            number=number,
            was=request.POST.get("was", "")[:64],
            row=None,
            position=None,
            base_version=base_version,
            user=request.user,
        )
    except StaleEdit:
        messages.error(
            request,
            f"Someone changed or removed this {spec.row_label.lower()} after you opened it, so "
            "it has not been removed. Look at the table as it is now, and remove it again if you "
            "still want to.",
        )
        return redirect(_part_url(plan, key))
    except (PlanNotEditable, ValidationError) as refusal:
        messages.error(request, " ".join(getattr(refusal, "messages", [str(refusal)])))
        return redirect(_part_url(plan, key))
    messages.success(request, f"{spec.row_label} {number} removed.")
    return redirect(_part_url(plan, key))
