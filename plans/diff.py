"""Readable differences between two versions of a part: word by word for text, field by field
for everything else, row by row for lists."""

import re
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from django import forms
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from itf_portal.money import money_format
from plans.parts import shown
from plans.registry import PartSpec

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
    """The new text with removed words in <del> and added words in <ins>, all escaped."""
    before, after = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
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
    return _safe("".join(out))


class _Amount(forms.CharField):
    """A row's amount for a year (spend, benefits, savings, support), shown in pounds."""


AMOUNT_KEYS = {"spend", "benefits", "savings", "support"}


def _shown(field: forms.Field, value) -> str:
    if isinstance(field, _Amount) and value not in ("", None):
        try:
            return money_format(Decimal(str(value)))
        except ArithmeticError:
            pass
    return shown(field, value)


def _field_change(label: str, field: forms.Field, old, new) -> Change | None:
    if (old or "") == (new or ""):
        return None
    if isinstance(field.widget, forms.Textarea):
        return Change(label, words_diff(old or "", new or ""))
    before, after = _shown(field, old) or "(empty)", _shown(field, new) or "(empty)"
    return Change(label, _safe(f"{_marked('del', before)} → {_marked('ins', after)}"))


def _flat_row(row: dict) -> dict:
    """A row with its per-year values ({"spend": {"2014/15": …}}) spread out as "spend:2014/15"."""
    flat = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update({f"{key}:{label}": item for label, item in value.items()})
        else:
            flat[key] = value
    return flat


def _row_fields(spec: PartSpec, rows: list[dict]) -> dict[str, tuple[str, forms.Field]]:
    fields = {
        name: (field.label, field)
        for name, field in spec.form.row_form.base_fields.items()
        if name != "DELETE"
    }
    for row in rows:
        for key in _flat_row(row):
            if ":" in key and key not in fields:
                name, label = key.split(":", 1)
                heading = "projection" if name == "projections" else name.replace("_", " ")
                kind = _Amount if name in AMOUNT_KEYS else forms.CharField
                fields[key] = (f"{label} {heading}", kind())
    return fields


def _row_title(spec: PartSpec, index: int, row: dict) -> str:
    """ "Scheme 3 (Falls prevention)": the row's number and, when it has one, its name."""
    name = next((row[key] for key in ROW_NAMES if isinstance(row.get(key), str) and row[key]), "")
    short = name if len(name) <= 60 else name[:57] + "…"
    return f"{spec.form.row_label} {index + 1}" + (f" ({short})" if short else "")


ROW_NAMES = ("name", "title", "description", "outcome")


def part_changes(spec: PartSpec, old: dict, new: dict) -> list[Change]:
    """Every difference between two contents of the same part, in the form's order."""
    old, new = old or {}, new or {}
    changes = []
    fields = [] if getattr(spec.form, "labelled_only", False) else spec.form.content_fields()
    for name in fields:
        field = spec.form.base_fields[name]
        change = _field_change(field.label, field, old.get(name), new.get(name))
        if change:
            changes.append(change)
    if hasattr(spec.form, "labelled"):
        before, after = spec.form.labelled(old), spec.form.labelled(new)
        for label in [*before, *(name for name in after if name not in before)]:
            change = _field_change(label, forms.CharField(), before.get(label), after.get(label))
            if change:
                changes.append(change)
    if spec.form.row_form is None:
        return changes
    old_rows, new_rows = old.get("rows", []), new.get("rows", [])
    fields = _row_fields(spec, old_rows + new_rows)
    for index in range(max(len(old_rows), len(new_rows))):
        row = new_rows[index] if index < len(new_rows) else old_rows[index]
        label = _row_title(spec, index, row)
        if index >= len(old_rows):
            summary = "; ".join(
                f"{fields[k][0]}: {_shown(fields[k][1], v)}"
                for k, v in _flat_row(new_rows[index]).items()
                if k in fields and v not in ("", None, False)
            )
            changes.append(Change(f"{label} added", _safe(_marked("ins", summary))))
        elif index >= len(new_rows):
            changes.append(Change(f"{label} removed", _safe(_marked("del", "removed"))))
        else:
            before, after = _flat_row(old_rows[index]), _flat_row(new_rows[index])
            for key, (field_label, field) in fields.items():
                change = _field_change(
                    f"{label}: {field_label}", field, before.get(key), after.get(key)
                )
                if change:
                    changes.append(change)
    return changes
