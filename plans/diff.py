"""Readable differences between two versions of a part: word by word for text, field by field
for everything else, row by row for lists."""

import re
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from itf_portal.money import money_format
from plans.constants import YesNo
from plans.registry import PartPage as PartSpec
from plans.template import Kind, Question, questions

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


def _shown(question: Question | None, value) -> str:
    """A stored value as a person reads it, by its kind in the description."""
    if value in ("", None):
        return ""
    kind = question.kind if question else None
    if kind == Kind.MONEY:
        try:
            return money_format(Decimal(str(value)))
        except ArithmeticError:
            return str(value)
    if kind == Kind.YES_NO:
        return YesNo(value).label if value in YesNo.values else str(value)
    if kind == Kind.CHOICE and question.ask.choices and value in question.ask.choices.values:
        return question.ask.choices(value).label
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _field_change(label: str, question: Question | None, old, new) -> Change | None:
    if (old or "") == (new or ""):
        return None
    if question is not None and question.kind == Kind.TEXT:
        return Change(label, words_diff(old or "", new or ""))
    before, after = _shown(question, old) or "(empty)", _shown(question, new) or "(empty)"
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


def _row_fields(model, rows: list[dict]) -> dict[str, tuple[str, Question]]:
    """The row model's asked fields by flat key, each with its label: a value per year is
    labelled with its year ("2014/15 spend")."""
    asked = {q.name: q for q in questions(model)}
    fields: dict[str, tuple[str, Question]] = {}
    periods = [key for row in rows for key in _flat_row(row) if ":" in key]
    for name, question in asked.items():
        if not question.ask.per:
            fields[name] = (question.label, question)
            continue
        for key in dict.fromkeys(periods):
            field_name, period = key.split(":", 1)
            if field_name == name:
                fields[key] = (f"{period} {question.label}", question)
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
    asked = [] if getattr(spec.form, "labelled_only", False) else spec.described.questions
    for question in asked:
        change = _field_change(
            question.label, question, old.get(question.name), new.get(question.name)
        )
        if change:
            changes.append(change)
    if hasattr(spec.form, "labelled"):
        before, after = spec.form.labelled(old), spec.form.labelled(new)
        for label in [*before, *(name for name in after if name not in before)]:
            change = _field_change(label, None, before.get(label), after.get(label))
            if change:
                changes.append(change)
    if spec.form.row_form is None:
        return changes
    old_rows, new_rows = old.get("rows", []), new.get("rows", [])
    fields = _row_fields(spec.described.row_model, old_rows + new_rows)
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
