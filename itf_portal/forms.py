from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def errors_to_form(form: forms.Form, error: ValidationError) -> None:
    """Show a domain function's refusal on the form: on the field it names, else at the top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def error_summary(form: forms.Form) -> list[tuple[str, str]]:
    """(anchor, message) pairs for the NHS.UK error summary, in the order the fields appear."""
    items = [("", message) for message in form.errors.get(NON_FIELD_ERRORS, [])]
    for bound in form:
        for message in bound.errors:
            items.append((f"#{bound.id_for_label or bound.auto_id}", message))
    if hasattr(form, "row_errors"):
        items += form.row_errors()
    return items


def form_data(form: forms.Form) -> dict:
    """What a browser would post for this unbound form as it is shown, rows included.

    Lets `load_demo` (and the tests) put content through exactly the checks a person meets.
    """
    data: dict = {}
    forms_to_read = [form]
    rows = getattr(form, "rows", None)
    if rows is not None:
        forms_to_read += [rows.management_form, *rows.forms]
    for each in forms_to_read:
        for bound in each:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value
    return data
