"""The forms of the plan's parts, derived from the description of the template
(`plans.template`): each asked field becomes a form field of its kind, labelled in the
template's words. What a form adds of its own is only what a person needs on the page: rows
that come and go, the national measures that cannot be removed, and its checks across fields.
(`plans.registry` pairs each part with its form.)
"""

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from itf_portal.money import MoneyError, money_parse
from plans.constants import NATIONAL_METRICS, PartStatus, Rating, YesNo
from plans.template import (
    SHORT_LIMIT,
    TEXT_LIMIT,
    Answer,
    Content,
    DataSharing,
    JointAssessment,
    Kind,
    Metric,
    Metrics,
    ProtectingSocialCare,
    Question,
    RelatedDocuments,
    Risk,
    Risks,
    SevenDayServices,
    Summary,
    questions,
)
from plans.template import Document as DocumentContent

NUMBER_LIMIT = Decimal("1000000000")

FINISHED_CHOICES = [
    (PartStatus.IN_PROGRESS, "No, I will come back to it later"),
    (PartStatus.READY_FOR_REVIEW, "Yes, it is ready for review"),
    (PartStatus.COMPLETE, "Yes, mark it as complete"),
]


def risk_rating(impact: str, probability: str) -> str:
    """The derived rating of a risk: impact times probability, each scored 3, 2 or 1."""
    score = {Rating.HIGH: 3, Rating.MEDIUM: 2, Rating.LOW: 1}
    product = score.get(impact, 0) * score.get(probability, 0)
    if not product:
        return ""
    if product >= 6:
        return Rating.HIGH.label
    return Rating.MEDIUM.label if product >= 3 else Rating.LOW.label


def long_text(label: str, hint: str = "", rows: int = 8, *, name: str = "") -> forms.CharField:
    name = name or label
    return forms.CharField(
        label=label,
        help_text=hint,
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"max_length": f"{name} must be {TEXT_LIMIT:,} characters or fewer."},
    )


def short_text(label: str, hint: str = "", *, name: str = "") -> forms.CharField:
    name = name or label
    return forms.CharField(
        label=label,
        help_text=hint,
        required=False,
        max_length=SHORT_LIMIT,
        error_messages={"max_length": f"{name} must be {SHORT_LIMIT} characters or fewer."},
    )


def _number(
    label: str, hint: str = "", low=-NUMBER_LIMIT, high=NUMBER_LIMIT, *, name: str = ""
) -> forms.DecimalField:
    name = name or label
    return forms.DecimalField(
        label=label,
        help_text=hint,
        required=False,
        min_value=low,
        max_value=high,
        max_digits=14,
        decimal_places=2,
        error_messages={
            "invalid": f"{name} must be a number, like 1250 or 12.5.",
            "min_value": f"{name} must be {low:,} or more.",
            "max_value": f"{name} must be {high:,} or less.",
            "max_decimal_places": f"{name} can have at most 2 decimal places.",
            "max_digits": f"{name} is too long a number.",
        },
    )


def percent(label: str, hint: str = "", *, name: str = "") -> forms.DecimalField:
    name = name or label
    field = _number(label, hint, low=Decimal(0), high=Decimal(100), name=name)
    message = f"{name} must be a percentage from 0 to 100."
    field.error_messages.update(min_value=message, max_value=message)
    return field


def _date(label: str, hint: str = "", *, name: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        help_text=hint or "For example, 2015-03-31",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": f"{name or label} must be a real date, like 2015-03-31."},
    )


class MoneyField(forms.CharField):
    """An amount in pounds; its messages name the cell, e.g. "NHS Walsall CCG, Carers' breaks,
    2015/16: Enter an amount of 0 or more"."""

    def __init__(self, *, label: str, name: str = "", **kwargs):
        self.name = name or label
        super().__init__(
            label=label,
            required=False,
            max_length=40,
            error_messages={
                "max_length": f"{self.name}: Enter an amount in pounds, like 1,234.50."
            },
            **kwargs,
        )

    def clean(self, value):
        text = super().clean(value)
        try:
            return money_parse(text)
        except MoneyError as error:
            raise ValidationError(f"{self.name}: {error}.") from error


def form_field(question: Question, label: str = "") -> forms.Field:
    """The form field for one asked field: its kind says which, the description its words."""
    ask = question.ask
    name = label or ask.label
    label = label or ask.words or ask.label
    hint = ask.help
    match question.kind:
        case Kind.TEXT:
            return long_text(label, hint, rows=ask.lines, name=name)
        case Kind.SHORT_TEXT:
            return short_text(label, hint, name=name)
        case Kind.LINK:
            return forms.URLField(
                label=label,
                help_text=hint,
                required=False,
                max_length=2000,
                assume_scheme="https",
                validators=[URLValidator(schemes=["http", "https"])],
                error_messages={"invalid": "Enter a web address starting http:// or https://."},
            )
        case Kind.YES_NO:
            return forms.ChoiceField(
                label=label,
                help_text=hint,
                required=False,
                choices=YesNo.choices,
                widget=forms.RadioSelect,
            )
        case Kind.DATE:
            return _date(label, hint, name=name)
        case Kind.PERCENT:
            return percent(label, hint, name=name)
        case Kind.NUMBER:
            return _number(label, hint, name=name)
        case Kind.MONEY:
            return MoneyField(label=label, name=name, help_text=hint)
        case Kind.DAYS:
            return forms.IntegerField(
                label=label,
                help_text=hint,
                required=False,
                min_value=1,
                max_value=60,
                error_messages={
                    "invalid": f"{name} must be a whole number of working days, like 10.",
                    "min_value": f"{name} must be at least 1 working day.",
                    "max_value": f"{name} must be 60 working days or fewer.",
                },
            )
        case Kind.CHOICE if ask.radios:
            return forms.ChoiceField(
                label=label,
                help_text=hint,
                required=False,
                choices=ask.choices.choices,
                widget=forms.RadioSelect,
            )
        case Kind.CHOICE:
            return forms.ChoiceField(
                label=label,
                help_text=hint,
                required=False,
                choices=[("", "Choose"), *ask.choices.choices],
            )
        case Kind.PARTNER:
            # Its choices are the plan's partners, set when the form is made.
            return forms.ChoiceField(label=label, help_text=hint, required=False)
        case Kind.FLAG:
            return forms.BooleanField(label=label, help_text=hint, required=False)
    raise ValueError(f"No form field for {question.kind}")


def period_field(model: type[Content], name: str, period: str) -> forms.Field:
    """The form field for one period of a field with a value per year ("2014/15 spend",
    "Ongoing planned savings")."""
    question = next(q for q in questions(model) if q.name == name)
    shown_period = "Ongoing" if period == "ongoing" else period
    return form_field(question, label=f"{shown_period} {question.label}")


def described_fields(model: type[Content]) -> dict[str, forms.Field]:
    """The form fields of a content or row model's asked fields (a value per year is added by
    the form itself, once it knows the plan's years)."""
    return {q.name: form_field(q) for q in questions(model) if not q.ask.per}


def needed(model: type[Content]) -> tuple[str, ...]:
    return tuple(q.name for q in questions(model) if q.ask.needed)


def _to_json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def _blank(value) -> bool:
    return value in (None, "", [], False)


def shown(field: forms.Field, value) -> str:
    """A stored value as a person reads it: choice labels, Yes/No, and "" for nothing."""
    if value in (None, ""):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    choices = dict(getattr(field, "choices", []) or [])
    return str(choices.get(value, value))


class RowForm(forms.Form):
    """One row of a list part. Subclasses may map stored rows to fields and back.

    What a row holds depends only on what was posted for it, never on what was stored when the
    page was drawn, so a save checked against a colleague's newer rows means the same thing.
    """

    def __init__(self, *args, plan=None, index=0, **kwargs):
        self.plan = plan
        self.index = index
        super().__init__(*args, **kwargs)

    @property
    def kept(self) -> bool:
        """Whether this row is saved: something was typed in it and it is not marked for removal."""
        if "DELETE" in self.fields and self["DELETE"].data:
            return False
        return any(
            self[name].data not in (None, "", False) for name in self.fields if name != "DELETE"
        )

    @classmethod
    def initial_from(cls, row: dict, plan) -> dict:
        return dict(row)

    @classmethod
    def columns(cls, plan) -> list[tuple[str, object]]:
        """(heading, row -> shown value) for showing stored rows as a table."""
        return [
            (field.label, lambda row, name=name, field=field: shown(field, row.get(name)))
            for name, field in cls.base_fields.items()
        ]

    def content(self) -> dict:
        return {
            name: _to_json(self.cleaned_data.get(name)) for name in self.fields if name != "DELETE"
        }


class RowFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this row when I save"

    def get_form_kwargs(self, index):
        return {
            **super().get_form_kwargs(index),
            "plan": self.form_kwargs.get("plan"),
            "index": index,
        }


class PartForm(forms.Form):
    """A part's form: its content fields, then "Have you finished this part?"."""

    content_model: type[Content] = Content
    row_form: type[RowForm] | None = None
    row_label = "Row"

    @classmethod
    def needed_for_complete(cls) -> tuple[str, ...]:
        return needed(cls.content_model)

    status = forms.ChoiceField(
        label="Have you finished this part?",
        choices=FINISHED_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether you have finished this part."},
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, data=None, *, plan, content=None, version=0, status=PartStatus.IN_PROGRESS):
        self.plan = plan
        content = content or {}
        initial = {name: content.get(name, "") for name in self.content_fields()}
        initial["base_version"] = version
        initial["status"] = PartStatus.IN_PROGRESS if status == PartStatus.NOT_STARTED else status
        super().__init__(data, initial=initial)
        self.rows = None
        if self.row_form:
            factory = forms.formset_factory(
                self.row_form, formset=RowFormSet, extra=1, can_delete=True, max_num=1000
            )
            self.rows = factory(
                data,
                prefix="rows",
                initial=[self.row_form.initial_from(row, plan) for row in content.get("rows", [])],
                form_kwargs={"plan": plan},
            )

    @classmethod
    def content_fields(cls) -> list[str]:
        return [name for name in cls.base_fields if name not in ("status", "base_version")]

    def is_valid(self) -> bool:
        # Rows first, so that the part's own clean() can look at them.
        rows_valid = self.rows.is_valid() if self.rows is not None else True
        return super().is_valid() and rows_valid

    def clean(self):
        data = super().clean()
        if data.get("status") == PartStatus.COMPLETE:
            for name in self.needed_for_complete():
                if _blank(data.get(name)) and name not in self.errors:
                    label = self.fields[name].label
                    self.add_error(
                        name,
                        f"Fill in “{label}” before marking this part complete, "
                        "or choose to come back to it later.",
                    )
        return data

    def content(self) -> dict:
        content = {name: _to_json(self.cleaned_data.get(name)) for name in self.content_fields()}
        if self.rows is not None:
            content["rows"] = [form.content() for form in self.rows.forms if form.kept]
        return content

    def row_errors(self) -> list[tuple[str, str]]:
        """(anchor, message) pairs for the error summary, naming the row."""
        if self.rows is None or not self.rows.is_bound:
            return []
        items = [("", message) for message in self.rows.non_form_errors()]
        for number, form in enumerate(self.rows.forms, start=1):
            for bound in form:
                for message in bound.errors:
                    items.append((f"#{bound.auto_id}", f"{self.row_label} {number}: {message}"))
            for message in form.non_field_errors():
                items.append(("", f"{self.row_label} {number}: {message}"))
        return items


def part_form(model: type[Content], base: type = None) -> type:
    """A part form's base class with the model's asked fields declared on it."""
    base = base or PartForm
    return type(
        f"{model.__name__}Fields", (base,), {"content_model": model, **described_fields(model)}
    )


def row_form(model: type[Content]) -> type:
    """A row form's base class with the row model's asked fields declared on it."""
    return type(
        f"{model.__name__}Fields", (RowForm,), {"content_model": model, **described_fields(model)}
    )


class SummaryForm(part_form(Summary)):
    pass


class TextForm(part_form(Answer)):
    pass


class DocumentRow(row_form(DocumentContent)):
    def clean(self):
        data = super().clean()
        if data.get("url") and not data.get("title"):
            self.add_error("title", "Give the document a title.")
        if data.get("title") and not data.get("url") and "url" not in self.errors:
            self.add_error("url", "Enter the document's web address.")
        return data


class RelatedDocumentsForm(part_form(RelatedDocuments)):
    row_form = DocumentRow
    row_label = "Document"


class ProtectingSocialCareForm(part_form(ProtectingSocialCare)):
    pass


class SevenDayServicesForm(part_form(SevenDayServices)):
    pass


class DataSharingForm(part_form(DataSharing)):
    def clean(self):
        data = super().clean()
        if data.get("nhs_number_used") == YesNo.NO:
            if not data.get("nhs_number_commitment"):
                self.add_error(
                    "nhs_number_commitment",
                    "You answered No on the NHS Number: confirm your commitment to using it.",
                )
            if not data.get("nhs_number_by") and "nhs_number_by" not in self.errors:
                self.add_error(
                    "nhs_number_by",
                    "You answered No on the NHS Number: enter the date by which it will be the "
                    "primary identifier.",
                )
        return data


class JointAssessmentForm(part_form(JointAssessment)):
    pass


class MetricRow(row_form(Metric)):
    def __init__(self, *args, plan=None, index=0, **kwargs):
        super().__init__(*args, plan=plan, index=index, **kwargs)
        self.years = plan.round.year_labels if plan else []
        for number, label in enumerate(self.years):
            self.fields[f"projection_{number}"] = period_field(Metric, "projections", label)
        # The national measures are always the first rows, in a fixed order.
        self.national = index < len(NATIONAL_METRICS)
        if self.national:
            self.fields["name"].disabled = True
            self.fields["name"].initial = NATIONAL_METRICS[index]

    @classmethod
    def initial_from(cls, row: dict, plan) -> dict:
        initial = {k: v for k, v in row.items() if k != "projections"}
        for index, label in enumerate(plan.round.year_labels):
            initial[f"projection_{index}"] = row.get("projections", {}).get(label, "")
        return initial

    @classmethod
    def columns(cls, plan) -> list[tuple[str, object]]:
        return [
            ("Measure", lambda row: row.get("name", "")),
            ("Unit", lambda row: row.get("unit", "")),
            ("Baseline", lambda row: row.get("baseline", "")),
            ("Baseline as at", lambda row: row.get("baseline_date", "")),
        ] + [
            (
                f"{label} projection",
                lambda row, label=label: row.get("projections", {}).get(label, ""),
            )
            for label in plan.round.year_labels
        ]

    def clean(self):
        data = super().clean()
        if not self.national and self.kept and not data.get("name"):
            self.add_error("name", "Name the local measure.")
        return data

    def content(self) -> dict:
        data = self.cleaned_data
        return {
            "name": NATIONAL_METRICS[self.index] if self.national else data.get("name", ""),
            "national": bool(self.national),
            "unit": data.get("unit", ""),
            "baseline": _to_json(data.get("baseline")),
            "baseline_date": _to_json(data.get("baseline_date")),
            "projections": {
                label: _to_json(data.get(f"projection_{index}"))
                for index, label in enumerate(self.years)
            },
        }

    @property
    def kept(self) -> bool:
        return self.national or super().kept


class MetricsForm(part_form(Metrics)):
    row_form = MetricRow
    row_label = "Measure"

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        content = dict(content or {})
        content["rows"] = metrics_with_nationals(content.get("rows", []))
        super().__init__(data, plan=plan, content=content, **kwargs)

    def clean(self):
        data = super().clean()
        # A formset does not validate rows marked for removal, so the refusal lives here.
        if self.rows is not None and (
            len(self.rows.forms) < len(NATIONAL_METRICS)
            or any(form.national and form.cleaned_data.get("DELETE") for form in self.rows.forms)
        ):
            self.add_error(None, "The national measures cannot be removed.")
        if data.get("status") == PartStatus.COMPLETE and self.rows and self.rows.is_valid():
            for form in self.rows.forms:
                row = form.cleaned_data
                if form.national and any(
                    _blank(row.get(name))
                    for name in ["baseline", "baseline_date"]
                    + [f"projection_{i}" for i in range(len(form.years))]
                ):
                    self.add_error(
                        None,
                        f"Give “{NATIONAL_METRICS[form.index]}” a baseline, its date and every "
                        "projection before marking this part complete.",
                    )
        return data


def metrics_with_nationals(rows: list[dict]) -> list[dict]:
    """The five national measures always come first, whatever was stored."""
    by_name = {row.get("name"): row for row in rows if row.get("national")}
    nationals = [
        {
            **by_name.get(name, {"name": name, "unit": "", "baseline": "", "baseline_date": ""}),
            "national": True,
        }
        for name in NATIONAL_METRICS
    ]
    return nationals + [row for row in rows if not row.get("national")]


class RiskRow(row_form(Risk)):
    @property
    def rating(self) -> str:
        return risk_rating(self.initial.get("impact"), self.initial.get("probability"))

    def clean(self):
        data = super().clean()
        needed = {
            "description": "Describe the risk.",
            "impact": "Choose the impact: high, medium or low.",
            "probability": "Choose the probability: high, medium or low.",
        }
        if self.kept:
            for name, message in needed.items():
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        return data

    @classmethod
    def columns(cls, plan) -> list[tuple[str, object]]:
        columns = super().columns(plan)
        rating = ("Rating", lambda row: risk_rating(row.get("impact"), row.get("probability")))
        return columns[:3] + [rating] + columns[3:]


class RisksForm(part_form(Risks)):
    row_form = RiskRow
    row_label = "Risk"
