"""The forms of in-year monitoring: the quarterly return (a line per scheme, per partner's
stream and per outcome measure of the submitted plan, each field derived from the return's
description in `finance.returns` and labelled with its line, so that a message says which), and
how the national measures count towards the element paid for performance."""

from django import forms

from finance.returns import (
    MetricLine,
    PaidLine,
    ReturnContent,
    SchemeLine,
    numbered_name,
    return_check,
)
from plans.parts import form_field, money_typed, percent
from plans.template import ContentError, Kind, questions


def _to_json(value) -> str:
    return "" if value is None else str(value)


# The names of a return's inputs, for the form and for the workbook's reader that posts to it.
def scheme_input(question: str, position: int) -> str:
    return f"{question}_{position}"


def paid_input(organisation: int, stream: str) -> str:
    return f"paid_{organisation}_{stream}"


def actual_input(position: int) -> str:
    return f"actual_{position}"


STALE_PAGE = (
    "This page was sent without the version of the return it was drawn from: open the return "
    "again, and enter your figures there."
)


class ReturnForm(forms.Form):
    # Its own message, at the top: a person never sees this field, so it has nothing beside it.
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, data=None, *, figures: dict, content: dict | None = None, version: int = 0):
        super().__init__(data, initial={"base_version": version})
        content = content or {}
        self.figures = figures
        self.fields["note"] = form_field(questions(ReturnContent)[0])
        self.initial["note"] = content.get("note", "")
        stored = {line["position"]: line for line in content.get("schemes", [])}
        self.scheme_lines = []
        for row in figures["schemes"]:
            line = stored.get(row["position"], {})
            names = []
            for question in questions(SchemeLine):
                name = scheme_input(question.name, row["position"])
                label = f"{numbered_name(row['name'], row['position'])}: {question.label}"
                self.fields[name] = form_field(question, label=label)
                value = line.get(question.name)
                self.initial[name] = money_typed(value) if question.kind == Kind.MONEY else value
                names.append(name)
            self.scheme_lines.append((row, names))
        paid = {(line["organisation"], line["stream"]): line for line in content.get("paid", [])}
        self.paid_lines = []
        (paid_question,) = questions(PaidLine)
        for row in figures["paid"]:
            name = paid_input(row["organisation"], row["stream"])
            label = f"{row['name']}, {row['stream_label']}: {paid_question.label}"
            self.fields[name] = form_field(paid_question, label=label)
            self.initial[name] = money_typed(
                paid.get((row["organisation"], row["stream"]), {}).get("paid")
            )
            self.paid_lines.append((row, name))
        actuals = {line["position"]: line for line in content.get("metrics", [])}
        self.metric_lines = []
        (actual_question,) = questions(MetricLine)
        for row in figures["metrics"]:
            name = actual_input(row["position"])
            self.fields[name] = form_field(
                actual_question, label=f"{row['name']}: {actual_question.label}"
            )
            self.initial[name] = actuals.get(row["position"], {}).get("actual", "")
            self.metric_lines.append((row, name))

    def schemes(self):
        return [(row, [self[name] for name in names]) for row, names in self.scheme_lines]

    def paid(self):
        return [(row, self[name]) for row, name in self.paid_lines]

    def metrics(self):
        return [(row, self[name]) for row, name in self.metric_lines]

    def content(self) -> dict:
        data = self.cleaned_data
        return {
            "note": data.get("note") or "",
            "schemes": [
                {
                    "position": row["position"],
                    **{
                        question.name: _to_json(data.get(name))
                        for question, name in zip(questions(SchemeLine), names, strict=True)
                    },
                }
                for row, names in self.scheme_lines
            ],
            "paid": [
                {
                    "organisation": row["organisation"],
                    "stream": row["stream"],
                    "paid": _to_json(data.get(name)),
                }
                for row, name in self.paid_lines
            ],
            "metrics": [
                {"position": row["position"], "actual": _to_json(data.get(name))}
                for row, name in self.metric_lines
            ],
        }

    def clean(self):
        data = super().clean()
        if "base_version" in self.errors or data.get("base_version") is None:
            self.errors.pop("base_version", None)
            self.add_error(None, STALE_PAGE)
        if self.errors:
            return data
        # The return's own rules (a forecast below the spend to date) are its description's:
        # each refusal is put beside the field of the line it is about.
        try:
            return_check(self.content())
        except ContentError as error:
            for item in error.errors():
                where = item["loc"]
                if len(where) >= 2 and where[0] == "schemes":
                    row, _ = self.scheme_lines[where[1]]
                    field = where[2] if len(where) > 2 else "forecast"
                    label = numbered_name(row["name"], row["position"])
                    self.add_error(
                        scheme_input(field, row["position"]),
                        f"{label}: {item['msg'][0].upper()}{item['msg'][1:]}.",
                    )
                else:
                    self.add_error(None, item["msg"])
        return data


class PerformanceTermsForm(forms.Form):
    """How each national measure counts towards the element paid for performance: its share of
    each payment, and which way is better."""

    def __init__(self, *args, terms: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.names = [term["name"] for term in terms]
        for number, term in enumerate(terms):
            self.fields[f"share_{number}"] = percent(
                f"{term['name']}: share of each payment (%)", name=f"{term['name']}: share"
            )
            self.fields[f"share_{number}"].required = True
            self.fields[f"share_{number}"].error_messages["required"] = (
                f"{term['name']}: give its share of each payment, as a percentage."
            )
            self.fields[f"better_{number}"] = forms.ChoiceField(
                label=f"{term['name']}: its target is met by a figure",
                choices=[("lower", "At or below the projection"), ("higher", "At or above it")],
                widget=forms.RadioSelect,
                error_messages={"required": f"{term['name']}: say which way is better."},
            )
            self.initial[f"share_{number}"] = term["share"]
            self.initial[f"better_{number}"] = "lower" if term["lower_is_better"] else "higher"

    def lines(self):
        return [
            (name, self[f"share_{number}"], self[f"better_{number}"])
            for number, name in enumerate(self.names)
        ]

    def terms(self) -> list[dict]:
        return [
            {
                "name": name,
                "share": self.cleaned_data[f"share_{number}"],
                "lower_is_better": self.cleaned_data[f"better_{number}"] == "lower",
            }
            for number, name in enumerate(self.names)
        ]


class ReturnUploadForm(forms.Form):
    workbook = forms.FileField(
        label="Import the return's workbook, filled in",
        help_text="The workbook downloaded from this page (.xlsx). Its figures are shown in the "
        "form for you to check; nothing is saved until you save the return.",
        error_messages={"required": "Choose the return's workbook to import."},
    )
