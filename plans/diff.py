"""Readable differences between two versions of a part: word by word for text, field by field
for everything else, row by row for lists."""

import re
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from itf_portal.money import money_format
from plans.parts import shown_cell
from plans.registry import PartPage as PartSpec
from plans.template import COVER, Cell, Kind, questions

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass
class Change:
    label: str
    html: SafeString


def _safe(html: str) -> SafeString:
    # Only ever called on strings built from _marked() and escape(): every piece is escaped.
    return mark_safe(html)  # noqa: S308


def _marked(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>"


def words_diff(old: str, new: str) -> SafeString:
    """The new text with removed words in <del> and added words in <ins>, all escaped.

    Paragraphs are matched first and words only within the paragraphs that differ, so a long
    answer with one paragraph changed costs that paragraph, not the whole answer squared."""
    before = (old or "").splitlines(keepends=True)
    after = (new or "").splitlines(keepends=True)
    out = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(before[a1:a2])))
        else:
            out.append(_words_diff("".join(before[a1:a2]), "".join(after[b1:b2])))
    return _safe("".join(out))


def _words_diff(old: str, new: str) -> str:
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    out = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(before[a1:a2])))
            continue
        if op in ("delete", "replace"):
            out.append(_marked("del", "".join(before[a1:a2])))
        if op in ("insert", "replace"):
            out.append(_marked("ins", "".join(after[b1:b2])))
    return "".join(out)


def _field_change(label: str, cell: Cell | None, old: dict, new: dict, model) -> Change | None:
    """The change of one cell between two contents (or rows) of a part, shown as its kind
    shows it: text word by word, anything else as before → after."""
    before_value = cell.value(old) if cell else old.get(label)
    after_value = cell.value(new) if cell else new.get(label)
    if (before_value or "") == (after_value or ""):
        return None
    if cell is not None and cell.kind == Kind.TEXT:
        return Change(label, words_diff(before_value or "", after_value or ""))
    if cell is None:
        before, after = str(before_value or ""), str(after_value or "")
    else:
        before, after = shown_cell(cell, old, model), shown_cell(cell, new, model)
    # A line missing from a grid of money (a partner's stream, a commissioner's spend) is £0.
    nothing = "£0" if cell is None and (before or after).startswith(("£", "(£")) else "(empty)"
    before, after = before or nothing, after or nothing
    return Change(label, _safe(f"{_marked('del', before)} → {_marked('ins', after)}"))


def _row_cells(model, rows: list[dict]) -> list[Cell]:
    """The row model's cells, a value per year for every period the rows hold."""
    found = []
    for question in questions(model):
        if not question.ask.per:
            found.append(Cell(question))
            continue
        held = [period for row in rows for period in (row.get(question.name) or {})]
        found += [Cell(question, period, n) for n, period in enumerate(dict.fromkeys(held))]
    return found


def _row_title(spec: PartSpec, index: int, row: dict) -> str:
    """ "Scheme 3 (Falls prevention)": the row's number and, when it has one, its name."""
    named_by = spec.described.row_model.named_by if spec.described.row_model else ""
    name = str(row.get(named_by) or "") if named_by else ""
    short = name if len(name) <= 60 else name[:57] + "…"
    return f"{spec.form.row_label} {index + 1}" + (f" ({short})" if short else "")


def part_changes(spec: PartSpec, old: dict, new: dict) -> list[Change]:
    """Every difference between two contents of the same part, in the form's order."""
    old, new = old or {}, new or {}
    model = spec.described.content
    changes = []
    for question in spec.described.questions:
        cell = Cell(question)
        change = _field_change(question.label, cell, old, new, model)
        if change:
            changes.append(change)
    before, after = spec.form.labelled(old), spec.form.labelled(new)
    for label in [*before, *(name for name in after if name not in before)]:
        change = _field_change(label, None, before, after, model)
        if change:
            changes.append(change)
    if spec.form.row_form is None:
        return changes
    row_model = spec.described.row_model
    old_rows, new_rows = old.get("rows", []), new.get("rows", [])
    row_cells = _row_cells(row_model, old_rows + new_rows)
    for index in range(max(len(old_rows), len(new_rows))):
        row = new_rows[index] if index < len(new_rows) else old_rows[index]
        label = _row_title(spec, index, row)
        if index >= len(old_rows):
            shown = ((cell.header, shown_cell(cell, row, row_model)) for cell in row_cells)
            summary = "; ".join(f"{header}: {text}" for header, text in shown if text)
            changes.append(Change(f"{label} added", _safe(_marked("ins", summary))))
        elif index >= len(new_rows):
            changes.append(Change(f"{label} removed", _safe(_marked("del", "removed"))))
        else:
            for cell in row_cells:
                change = _field_change(
                    f"{label}: {cell.header}", cell, old_rows[index], new_rows[index], row_model
                )
                if change:
                    changes.append(change)
    return changes


def frame_changes(old: dict, new: dict) -> list[Change]:
    """What changed between two sealed versions outside their parts: the partners who joined
    or left the area, and the minimum pooled budget and its performance element by year."""
    changes = []
    before = {p["id"]: p["name"] for p in old.get("partners", [])}
    after = {p["id"]: p["name"] for p in new.get("partners", [])}
    for pk, name in after.items():
        if pk not in before:
            changes.append(Change("Partner", _safe(_marked("ins", f"{name} joined"))))
    for pk, name in before.items():
        if pk not in after:
            changes.append(Change("Partner", _safe(_marked("del", f"{name} left"))))
    old_money, new_money = old.get("allocations") or {}, new.get("allocations") or {}
    labels = {"minimum": COVER.minimum, "performance_element": "Paid for performance"}
    for year in dict.fromkeys([*old_money, *new_money]):
        for key, label in labels.items():
            was, now = ((money.get(year) or {}).get(key) for money in (old_money, new_money))
            if was != now:
                shown = [
                    _marked(tag, money_format(Decimal(v)))
                    for tag, v in (("del", was), ("ins", now))
                    if v not in (None, "")
                ]
                changes.append(Change(f"{label}: {year}", _safe(" ".join(shown))))
    return changes
