"""Render Django form fields with NHS.UK frontend markup (label, hint, error message, input)."""

from html import escape

from django import forms, template
from django.utils.safestring import mark_safe

from itf_portal.forms import DayMonthYearField, date_inputs, date_parts_in_error
from itf_portal.forms import error_summary as summary_items
from itf_portal.money import money_format

register = template.Library()

# Kinds whose input Django renders; the others are laid out by includes/field.html.
SIMPLE_KINDS = ("input", "textarea", "select")


def _described_by(field, *, counted: bool = False) -> str:
    ids = [f"{field.auto_id}-info"] if counted else []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.inclusion_tag("includes/field.html")
def field(bound, label_size: str = "s", width: str = ""):
    widget = bound.field.widget
    kind = "input"
    css = "nhsuk-input"
    if isinstance(bound.field, DayMonthYearField):
        kind = "date"
    elif isinstance(widget, forms.CheckboxInput):
        kind = "checkbox"
    elif isinstance(widget, forms.CheckboxSelectMultiple):
        kind = "checkboxes"
    elif isinstance(widget, forms.RadioSelect):
        kind = "radios"
    elif isinstance(widget, forms.Textarea):
        kind, css = "textarea", "nhsuk-textarea"
    elif isinstance(widget, forms.Select):
        kind, css = "select", "nhsuk-select"
    if bound.errors:
        css += f" {css.split()[0]}--error"
    if width:
        css += f" nhsuk-input--width-{width}"
    attrs: dict = {"class": css}
    # Never the browser's maxlength, which stops the typing or cuts a paste short without a word:
    # the form refuses what is too long beside the field and keeps it. A long answer shows the
    # NHS.UK character count as well.
    if getattr(bound.field, "max_length", None):
        attrs["maxlength"] = False
    max_length = getattr(bound.field, "max_length", None) if kind == "textarea" else None
    if max_length:
        attrs["class"] += " nhsuk-js-character-count"
    described_by = _described_by(bound, counted=bool(max_length))
    if described_by:
        attrs["aria-describedby"] = described_by
    return {
        "bound": bound,
        "kind": kind,
        "label_size": label_size,
        "described_by": described_by,
        "max_length": max_length,
        "max_length_shown": f"{max_length:,}" if max_length else "",
        "date_inputs": _date_inputs(bound) if kind == "date" else [],
        "widget_html": bound.as_widget(attrs=attrs) if kind in SIMPLE_KINDS else "",
    }


def _date_inputs(bound) -> list[dict]:
    """The day, month and year inputs of a date, each with what was typed in it and whether the
    message is about it."""
    in_error = date_parts_in_error(bound)
    return [
        {
            **input,
            "value": input["value"] or "",
            "label": input["part"].capitalize(),
            "width": 4 if input["part"] == "year" else 2,
            "error": input["part"] in in_error,
        }
        for input in date_inputs(bound)
    ]


@register.inclusion_tag("includes/error_summary.html")
def error_summary(form):
    return {"items": summary_items(form) if form.is_bound else []}


@register.filter
def person(user) -> str:
    """A person's name as shown on pages: full name, else sign-in name; "the system" for none."""
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


@register.filter
def money(amount) -> str:
    """£1,234,567 for display; "£0" for nothing."""
    return money_format(amount) if amount is not None else ""


@register.filter
def money_size(amount) -> str:
    """An amount's size, whichever way it goes (an under-spend of £500, not of (£500))."""
    return money_format(abs(amount)) if amount is not None else ""


SHOWN_CHARACTERS = 120  # of a cell of an overview; the row's own page shows it whole


def _shortened(value: str) -> str:
    return value if len(value) <= SHOWN_CHARACTERS else value[: SHOWN_CHARACTERS - 1] + "…"


@register.simple_tag
def overview_rows(overview: dict, rows_url: str) -> str:
    """The rows of a long table's overview, each numbered, its first cell a link to the row's own
    page. Built here rather than by a template loop: a table of 300 schemes is 2,700 cells."""
    numeric = ' class="nhsuk-table__cell nhsuk-table__cell--numeric"'
    plain = ' class="nhsuk-table__cell"'
    url = escape(rows_url)
    lines = []
    for number, values in overview["rows"]:
        (first, _), *rest = values
        cells = "".join(
            f"<td{numeric if money else plain}>{escape(_shortened(value))}</td>"
            for value, money in rest
        )
        name = escape(_shortened(first)) or "(not named)"
        lines.append(
            f'<tr class="nhsuk-table__row" id="row-{number}"><td{plain}>{number}</td>'
            f'<td{plain}><a href="{url}{number}/">{name}</a></td>{cells}</tr>'
        )
    return mark_safe("\n".join(lines))  # noqa: S308 (every value escaped above)


@register.simple_tag
def cell_input(bound, kind: str = "money") -> str:
    """One input of a table of inputs (an amount, or a short note), its label visually hidden and
    its message above it. Built here, not by an included template: a return of 300 schemes
    draws 900 of them, and as included templates they took most of the page's time."""
    id_, name = escape(bound.auto_id), escape(bound.html_name)
    value = bound.value()
    value = "" if value is None else escape(str(value))
    errors = bound.errors
    described = f' aria-describedby="{id_}-error"' if errors else ""
    message = (
        f'<span class="nhsuk-error-message" id="{id_}-error"><span class="nhsuk-u-visually-'
        f'hidden">Error: </span>{escape(" ".join(errors))}</span>'
        if errors
        else ""
    )
    if kind == "text":
        error_class = " nhsuk-textarea--error" if errors else ""
        field = (
            f'<textarea class="nhsuk-textarea app-cell-text{error_class}" id="{id_}" '
            f'name="{name}" rows="2"{described}>{value}</textarea>'
        )
    else:
        error_class = " nhsuk-input--error" if errors else ""
        field = (
            f'<input class="nhsuk-input nhsuk-input--width-10 app-money-input{error_class}" '
            f'id="{id_}" name="{name}" type="text" inputmode="decimal" spellcheck="false" '
            f'value="{value}"{described}>'
        )
    group_error = " nhsuk-form-group--error" if errors else ""
    return mark_safe(  # noqa: S308 (every value escaped above)
        f'<div class="nhsuk-form-group nhsuk-u-margin-bottom-0{group_error}">'
        f'<label class="nhsuk-label nhsuk-u-visually-hidden" for="{id_}">'
        f"{escape(str(bound.label))}</label>{message}{field}</div>"
    )
