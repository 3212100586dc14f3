"""Shared form pieces: the NHS.UK date input, amounts in pounds, and what the error summary and
the demo loader read from a form."""

import re
from datetime import date

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from itf_portal.money import MoneyError, money_parse

DATE_PARTS = ("day", "month", "year")
DATE_HINT = "For example, 31 3 2015"
_DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[0-9]+")


def date_problem(day: str, month: str, year: str) -> tuple[str, tuple[str, ...]]:
    """What is wrong with a typed day, month and year, and which of them:
    ("must include a month", ("month",)); ("", ()) for a real date or for nothing typed."""
    typed = dict(zip(DATE_PARTS, (day, month, year), strict=True))
    missing = tuple(part for part in DATE_PARTS if not typed[part])
    if len(missing) == len(DATE_PARTS):
        return "", ()
    if missing:
        return f"must include a {' and '.join(missing)}", missing
    if not (_DAY_OR_MONTH.fullmatch(day) and _DAY_OR_MONTH.fullmatch(month)) or not (
        _YEAR.fullmatch(year)
    ):
        return "must be a real date", DATE_PARTS
    if len(year) != 4:
        return "must include a year with 4 numbers, like 2015", ("year",)
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return "must be a real date", DATE_PARTS
    return "", ()


class DayMonthYearInput(forms.MultiWidget):
    """Three text inputs, day, month and year, posted as <name>_day, <name>_month, <name>_year
    (laid out by includes/field.html as the NHS.UK date input)."""

    def __init__(self, attrs=None):
        super().__init__(
            {part: forms.TextInput(attrs={"inputmode": "numeric"}) for part in DATE_PARTS}, attrs
        )

    def decompress(self, value):
        """A stored date, or its ISO text, as the day, month and year a person would type."""
        if isinstance(value, str) and value:
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return ["", "", ""]
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # Ids that say which input is which (Django numbers them), for labels and summary links.
        for part, input in zip(DATE_PARTS, context["widget"]["subwidgets"], strict=True):
            if input["attrs"].get("id"):
                input["attrs"]["id"] = f"{attrs['id']}_{part}"
        return context

    def id_for_label(self, id_):
        return f"{id_}_day" if id_ else ""


class DayMonthYearField(forms.Field):
    """A date typed as day, month and year. What was typed is kept when the form is shown again,
    and the message says what is wrong ("Date agreed must include a month"). All three empty is
    no answer; the cleaned value is a `datetime.date`."""

    widget = DayMonthYearInput

    def __init__(self, *, label: str, name: str = "", help_text: str = "", **kwargs):
        self.name = name or label
        kwargs.setdefault("required", False)
        hint = f"{help_text} {DATE_HINT}" if help_text else DATE_HINT
        super().__init__(label=label, help_text=hint, **kwargs)

    def typed(self, value) -> list[str]:
        """The day, month and year as typed (a list from the post), or shown (a stored date)."""
        if isinstance(value, list | tuple):
            return [str(part or "").strip() for part in [*value, "", "", ""][:3]]
        return self.widget.decompress(value)

    def to_python(self, value):
        if isinstance(value, date):
            return value
        day, month, year = self.typed(value)
        problem, _ = date_problem(day, month, year)
        if problem:
            raise ValidationError(f"{self.name} {problem}.", code="invalid")
        if not (day or month or year):
            return None
        return date(int(year), int(month), int(day))

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(data) != self.to_python(initial)
        except ValidationError:
            return True


def date_inputs(bound) -> list[dict]:
    """A date's day, month and year inputs as shown: each one's part, id, name and value."""
    context = bound.field.widget.get_context(bound.html_name, bound.value(), {"id": bound.auto_id})
    return [
        {"part": part, "id": input["attrs"]["id"], "name": input["name"], "value": input["value"]}
        for part, input in zip(DATE_PARTS, context["widget"]["subwidgets"], strict=True)
    ]


def date_parts_in_error(bound) -> tuple[str, ...]:
    """Which of a date's inputs to mark: those the message is about, else all three."""
    if not bound.errors:
        return ()
    _, parts = date_problem(*bound.field.typed(bound.value()))
    return parts or DATE_PARTS


class MoneyField(forms.CharField):
    """An amount in pounds; its messages name the field, e.g. "NHS Walsall CCG, Carers' breaks,
    2015/16: Enter an amount of 0 or more"."""

    def __init__(self, *, label: str, name: str = "", required: bool = False, **kwargs):
        self.name = name or label
        super().__init__(
            label=label,
            required=required,
            max_length=40,
            error_messages={
                "required": f"{self.name}: Enter an amount in pounds.",
                "max_length": f"{self.name}: Enter an amount in pounds, like 1,234.50.",
            },
            **kwargs,
        )

    def clean(self, value):
        text = super().clean(value)
        try:
            return money_parse(text)
        except MoneyError as error:
            raise ValidationError(f"{self.name}: {error}.") from error


def errors_to_form(form: forms.Form, error: ValidationError) -> None:
    """Show a domain function's refusal on the form: on the field it names, else at the top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def field_anchor(bound) -> str:
    """Where the error summary's link for a field goes: the first of a date's inputs in error,
    the first of a set of radios or checkboxes, else the field's input."""
    if isinstance(bound.field, DayMonthYearField):
        return f"#{bound.auto_id}_{date_parts_in_error(bound)[0]}"
    if isinstance(bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        options = bound.subwidgets
        if options:
            return f"#{options[0].id_for_label}"
    return f"#{bound.id_for_label or bound.auto_id}"


def error_summary(form: forms.Form) -> list[tuple[str, str]]:
    """(anchor, message) pairs for the NHS.UK error summary, in the order the fields appear."""
    items = [("", message) for message in form.errors.get(NON_FIELD_ERRORS, [])]
    for bound in form:
        for message in bound.errors:
            items.append((field_anchor(bound), message))
    if hasattr(form, "row_errors"):
        items += form.row_errors()
    return items


def posted_bound_fields(form: forms.Form):
    """Every field a form's page posts: its own, and a part's rows with their management form."""
    rows = getattr(form, "rows", None)
    for each in [form, *([rows.management_form, *rows.forms] if rows is not None else [])]:
        yield from each


def form_data(form: forms.Form) -> dict:
    """What a browser would post for this unbound form as it is shown, rows included.

    Lets `load_demo` (and the tests) put content through exactly the checks a person meets.
    """
    data: dict = {}
    for bound in posted_bound_fields(form):
        if isinstance(bound.field, DayMonthYearField):
            data.update({input["name"]: input["value"] or "" for input in date_inputs(bound)})
            continue
        value = bound.value()
        if value is None or value is False:
            continue
        data[bound.html_name] = "on" if value is True else value
    return data


class CommentForm(forms.Form):
    """A comment on a part of a plan or on a quarterly return."""

    # Its own ids and names: a narrative part's answer, and a return's note, are `text` too.
    prefix = "comment"

    text = forms.CharField(
        label="Add a comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Write your comment before posting it.",
            "max_length": "A comment must be 5,000 characters or fewer.",
        },
    )
