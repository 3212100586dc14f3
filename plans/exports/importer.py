"""Bringing an edited workbook back into a plan: a preview first, then, once confirmed, every
changed part saved at once or none.

What the file changes is found cell by cell: each cell is compared with the same cell of the
export the file came from (its snapshot is kept in `governance.Export`), so only the cells a
person edited are applied, on top of the plan as it is now. A part someone changed in the portal
since that export is a conflict: it is shown, and only applied if the importer says so. The
changed cells go into the part's own form, so they meet exactly the checks of the page.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from finance.services import part_save, plan_snapshot_now
from governance.models import Export
from governance.permissions import REFUSALS, has_area_perm
from itf_portal.forms import form_data
from plans.diff import Change, part_changes
from plans.exports.reader import WorkbookRefused, read_workbook
from plans.exports.template import (
    SHOWN_ONLY,
    CellProblem,
    Table,
    Value,
    normal,
    sheets,
    value_of,
)
from plans.models import Part, Plan, PlanImport
from plans.registry import PART_BY_KEY
from plans.services import PlanNotEditable, StaleEdit, plan_edit_check


@dataclass
class PartImport:
    """One part the workbook changes: its new content, what differs, and any conflict."""

    key: str
    title: str
    base_version: int
    content: dict
    status: str
    changes: list[Change]
    conflict: str = ""  # who changed the part in the portal since the export, and when


@dataclass
class LeftOut:
    """A part the workbook changes that this import leaves as it is, and why: someone else may
    change it, or some of its cells cannot go into the plan."""

    key: str
    title: str
    reasons: list[str]


@dataclass
class ImportPreview:
    parts: list[PartImport] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    export: Export | None = None


def _edits(plan: Plan, cells, snapshot: dict, current: dict) -> tuple[dict, dict, dict]:
    """The cells that differ from the export, as form inputs by part: ({part: {input: value}},
    {part: {input: "Sheet!B7"}}, {part: [problem]}). A part with a bad cell is not read."""
    edits: dict = {}
    where: dict = {}
    problems: dict = {key: list(found) for key, found in cells.problems.items()}
    round_ = plan.round
    for sheet in sheets(round_.year_labels, round_.baseline_label):
        for item in sheet.items:
            if isinstance(item, SHOWN_ONLY) or item.part in cells.problems:
                continue
            if isinstance(item, Value):
                value, cell = cells.values[(sheet.name, item.label)]
                # Every labelled cell is named, so a check on an unchanged one can point to it.
                where.setdefault(item.part, {})[item.key] = cell
                if value != normal(item.kind, value_of(snapshot, item)):
                    try:
                        edits.setdefault(item.part, {})[item.key] = item.post(plan, value)
                    except CellProblem as problem:
                        problems.setdefault(item.part, []).append(
                            f"{cell.replace('!', ', cell ')}: {problem}"
                        )
            else:
                rows = cells.tables[(sheet.name, item.title)]
                found = problems.setdefault(item.part, [])
                changed = _table_edits(plan, item, rows, snapshot, edits, where, found)
                if (
                    changed
                    and not item.key
                    and _row_names(item, current) != _row_names(item, snapshot)
                ):
                    # Rows are matched by position: if the portal's rows moved since the export,
                    # the workbook's edits would land on the wrong rows.
                    found.append(
                        f"{sheet.name}: rows of this table were added, removed or renamed in the "
                        "portal since this workbook was exported, so its changes cannot be matched "
                        "to the right rows. Download the plan again and make your changes in the "
                        "new workbook."
                    )
    return edits, where, {key: found for key, found in problems.items() if found}


def _row_names(table: Table, snapshot: dict) -> list:
    """What tells a positional table's rows apart: their first column (name, risk, outcome)."""
    return [row[table.columns[0].key] for row in _baseline_rows(table, snapshot)]


def _baseline_rows(table: Table, snapshot: dict) -> list[dict]:
    return [
        {column.key: normal(column.kind, row.get(column.key, "")) for column in table.columns}
        for row in table.rows(snapshot)
    ]


def _table_edits(plan, table: Table, rows, snapshot, edits, where, problems) -> bool:
    """Put the table's edited cells into its part's inputs; says whether there were any."""
    base_rows = _baseline_rows(table, snapshot)
    inputs = edits.setdefault(table.part, {})
    before = dict(inputs)
    cells = where.setdefault(table.part, {})
    columns = [column for column in table.columns if not column.derived]
    if table.key:
        base = {tuple(row[k] for k in table.key): row for row in base_rows}
        pairs = [(row, base.pop(tuple(row.values[k] for k in table.key), None)) for row in rows]
        # A row taken out of a grid clears its amounts.
        gone = list(base.values())
    else:
        pairs = [(row, base_rows[i] if i < len(base_rows) else None) for i, row in enumerate(rows)]
        gone = base_rows[len(rows) :]
    for index, (row, before) in enumerate(pairs):
        changed = [c for c in columns if before is None or row.values[c.key] != before[c.key]]
        if before is None and table.key:
            changed = [c for c in changed if row.values[c.key] not in ("", 0)]
        if not changed:
            continue
        try:
            fields = table.fields(plan, row.values, index)
        except CellProblem as problem:
            cell = row.cells.get(problem.column) or next(iter(row.cells.values()))
            problems.append(f"{cell.replace('!', ', cell ')}: {problem}")
            continue
        for column in columns:
            for name, value in fields.get(column.key, []):
                # Every cell of an edited row is named, so a check on one can point to it.
                cells[name] = row.cells[column.key]
                if column in changed:
                    inputs[name] = value
    for index, before in enumerate(gone, start=len(rows)):
        if table.key:
            try:
                fields = table.fields(plan, before, index)
            except CellProblem as problem:
                problems.append(f"{table.title}: a row was taken out, but {problem}")
                continue
            for names in fields.values():
                for name, _ in names:
                    inputs[name] = ""
        else:
            inputs[f"rows-{index}-DELETE"] = "on"
    if not table.key and len(rows) != len(base_rows):
        inputs["rows-TOTAL_FORMS"] = len(rows)
    if not inputs:
        del edits[table.part]
    return inputs != before


def _form_for(plan: Plan, part: Part, inputs: dict):
    spec = PART_BY_KEY[part.key]
    shown = spec.form(plan=plan, content=part.content, version=part.version, status=part.status)
    data = form_data(shown)
    if "rows-TOTAL_FORMS" in inputs:
        inputs = dict(inputs)
        wanted = inputs.pop("rows-TOTAL_FORMS")
        data["rows-TOTAL_FORMS"] = max(int(data.get("rows-TOTAL_FORMS", 0)), wanted)
    data.update(inputs)
    return spec.form(
        data, plan=plan, content=part.content, version=part.version, status=part.status
    )


def _form_problems(form, cells: dict, title: str, fixed: list[str]) -> list[str]:
    def named(name: str, message: str) -> str:
        cell = cells.get(name)
        return f"{cell.replace('!', ', cell ')}: {message}" if cell else f"{title}: {message}"

    problems = [
        named(name, "this cell cannot be changed; it is set by the template.") for name in fixed
    ]
    for name, messages in form.errors.items():
        for message in messages:
            problems.append(named(name, message) if name != "__all__" else f"{title}: {message}")
    if form.rows is not None:
        for message in form.rows.non_form_errors():
            problems.append(f"{title}: {message}")
        for number, row in enumerate(form.rows.forms, start=1):
            for name, messages in row.errors.items():
                for message in messages:
                    cell = cells.get(f"{row.prefix}-{name}")
                    problems.append(
                        f"{cell.replace('!', ', cell ')}: {message}"
                        if cell
                        else f"{title}, {form.row_label.lower()} {number}: {message}"
                    )
    return problems


def _edited_fixed(form, cells: dict) -> list[str]:
    """The inputs the workbook changed that the form does not take (a national measure's name):
    refused, rather than silently dropped."""
    found = []
    rows = form.rows.forms if form.rows is not None else []
    for each in [form, *rows]:
        for name, each_field in each.fields.items():
            html_name = each.add_prefix(name)
            if (
                each_field.disabled
                and html_name in cells
                and str(form.data.get(html_name, "")) != str(each[name].initial or "")
            ):
                found.append(html_name)
    return found


def _conflict(part: Part) -> str:
    person = part.updated_by
    by = (person.get_full_name() or person.get_username()) if person else "Someone"
    when = f" on {timezone.localtime(part.updated_at):%d/%m/%Y at %H:%M}" if part.updated_at else ""
    latest = part.history.order_by("-history_id").values_list("history_change_reason", flat=True)
    how = (
        "by importing a workbook"
        if (latest.first() or "").startswith("Imported")
        else "in the portal"
    )
    return f"{by} changed this part {how}{when}, after this workbook was exported."


def import_preview(*, plan: Plan, user, data: bytes) -> ImportPreview:
    """What the workbook would change in the plan, part by part. Raises WorkbookRefused with
    every problem (file, layout, cells, permissions, the part forms' checks); writes nothing."""
    try:
        plan_edit_check(plan)
    except PlanNotEditable as refusal:
        raise WorkbookRefused([str(refusal)]) from None
    round_ = plan.round
    cells = read_workbook(data, years=round_.year_labels, baseline=round_.baseline_label)
    expected = f"{plan.area.name}: {round_.name}"
    if cells.heading != expected:
        raise WorkbookRefused(
            [
                f"This workbook is “{cells.heading or 'unnamed'}”, not “{expected}”. Import a "
                "workbook exported from this plan."
            ]
        )
    preview = ImportPreview()
    export = (
        Export.objects.filter(pk=cells.export_id, plan=plan, snapshot__isnull=False).first()
        if cells.export_id
        else None
    )
    if export:
        snapshot = export.snapshot
        preview.export = export
    else:
        snapshot = plan_snapshot_now(plan)
        preview.notices.append(
            "This workbook does not say which export of this plan it came from, so it is compared "
            "with the plan as it is now: every difference is shown as a change."
        )
    edits, where, problems = _edits(
        plan, cells, snapshot, plan_snapshot_now(plan) if export else snapshot
    )
    parts = {part.key: part for part in plan.parts.select_related("updated_by")}
    exported = snapshot.get("parts", {})
    for key in [k for k in PART_BY_KEY if k in problems]:
        preview.left_out.append(LeftOut(key, PART_BY_KEY[key].title, problems[key]))
    for key, inputs in edits.items():
        if key in problems:
            continue
        spec, part = PART_BY_KEY[key], parts[key]
        form = _form_for(plan, part, inputs)
        valid = form.is_valid()
        if user is not None and not has_area_perm(user, spec.edit_permission, plan.area):
            # Someone else's part: left for them, unless the plan already holds what it says
            # (they have imported this workbook already).
            if valid and not part_changes(spec, part.content, form.content()):
                continue
            changed = sorted(
                {where[key][name].replace("!", " ") for name in inputs if name in where[key]}
            )
            named = f" ({', '.join(changed)})" if changed else ""
            rule = REFUSALS[spec.edit_permission].split(". ")[0]
            preview.left_out.append(
                LeftOut(
                    key,
                    spec.title,
                    [
                        f"The workbook changes {spec.title}{named}, but {rule[0].lower()}"
                        f"{rule[1:]}: they can import this same workbook to make those changes."
                    ],
                )
            )
            continue
        fixed = _edited_fixed(form, where[key])
        if not valid or fixed:
            found = _form_problems(form, where[key], spec.title, fixed)
            preview.left_out.append(LeftOut(key, spec.title, found))
            continue
        content = form.content()
        changes = part_changes(spec, part.content, content)
        if not changes:
            continue
        conflict = ""
        if export and part.version != (exported.get(key) or {}).get("version", 0):
            conflict = _conflict(part)
        preview.parts.append(
            PartImport(
                key=key,
                title=spec.title,
                base_version=part.version,
                content=content,
                status=form.cleaned_data["status"],
                changes=changes,
                conflict=conflict,
            )
        )
    if not preview.parts and preview.left_out:
        # Nothing this person can import: say why, and keep nothing.
        raise WorkbookRefused([reason for left in preview.left_out for reason in left.reasons])
    order = list(PART_BY_KEY)
    preview.parts.sort(key=lambda p: order.index(p.key))
    preview.left_out.sort(key=lambda p: order.index(p.key))
    return preview


def import_pending(*, plan: Plan, user, preview: ImportPreview, file_name: str) -> PlanImport:
    """Keep a preview so the person can confirm it; their earlier unconfirmed previews of this
    plan are dropped, so only the latest upload can be confirmed."""
    PlanImport.objects.filter(plan=plan, user=user, applied_at__isnull=True).delete()
    return PlanImport.objects.create(
        plan=plan,
        user=user,
        file_name=file_name[:200],
        export=preview.export,
        parts={
            p.key: {
                "base_version": p.base_version,
                "content": p.content,
                "status": p.status,
                "conflict": p.conflict,
            }
            for p in preview.parts
        },
        left_out=[{"title": left.title, "reasons": left.reasons} for left in preview.left_out],
    )


class ImportStale(Exception):
    """A part changed between the preview and the confirmation; nothing was imported."""


@transaction.atomic
def import_apply(*, pending: PlanImport, user, overwrite: set[str] = frozenset()) -> list[str]:
    """Save every part of a confirmed preview, or none. Parts in conflict are saved only when
    named in `overwrite`. Returns the keys of the parts saved."""
    plan = (
        Plan.objects.select_for_update(of=("self",)).select_related("area").get(pk=pending.plan_id)
    )
    plan_edit_check(plan)
    pending = PlanImport.objects.select_for_update().get(pk=pending.pk)
    if pending.applied_at:
        raise ImportStale("This import has already been applied.")
    parts = {part.key: part for part in plan.parts.all()}
    saved = []
    for key, change in pending.parts.items():
        if change["conflict"] and key not in overwrite:
            continue
        spec = PART_BY_KEY[key]
        if user is not None and not has_area_perm(user, spec.edit_permission, plan.area):
            raise ImportStale(f"You may no longer change {spec.title}. Nothing was imported.")
        try:
            part_save(
                part=parts[key],
                content=change["content"],
                status=change["status"],
                base_version=change["base_version"],
                user=user,
                reason=f"Imported from {pending.file_name}",
            )
        except StaleEdit:
            raise ImportStale(
                f"{spec.title} was changed after you previewed this import, so nothing was "
                "imported. Upload the file again to see its changes against the latest version."
            ) from None
        saved.append(key)
    pending.applied_at = timezone.now()
    pending.save(update_fields=["applied_at"])
    return saved
