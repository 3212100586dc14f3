"""The forms of the plan's parts: their fields, their checks, and what "complete" needs.
(`plans.registry` lists the parts in template order.)

A part's fields are stored as JSON in `Part.content`; a part that holds a list (documents,
metrics, risks) keeps it under "rows". Numbers are stored as decimal strings, dates as ISO dates.
"""

from datetime import date
from decimal import Decimal

from django import forms
from django.core.validators import URLValidator

from plans.constants import NATIONAL_METRICS, PartStatus, Rating, YesNo

TEXT_LIMIT = 10_000
SHORT_LIMIT = 200
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


def long_text(label: str, hint: str = "", rows: int = 8) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"max_length": f"{label} must be {TEXT_LIMIT:,} characters or fewer."},
    )


def short_text(label: str, hint: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        required=False,
        max_length=SHORT_LIMIT,
        error_messages={"max_length": f"{label} must be {SHORT_LIMIT} characters or fewer."},
    )


def _yes_no(label: str, hint: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, help_text=hint, required=False, choices=YesNo.choices, widget=forms.RadioSelect
    )


def _number(label: str, hint: str = "", low=-NUMBER_LIMIT, high=NUMBER_LIMIT) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=hint,
        required=False,
        min_value=low,
        max_value=high,
        max_digits=14,
        decimal_places=2,
        error_messages={
            "invalid": f"{label} must be a number, like 1250 or 12.5.",
            "min_value": f"{label} must be {low:,} or more.",
            "max_value": f"{label} must be {high:,} or less.",
            "max_decimal_places": f"{label} can have at most 2 decimal places.",
            "max_digits": f"{label} is too long a number.",
        },
    )


def percent(label: str, hint: str = "") -> forms.DecimalField:
    field = _number(label, hint, low=Decimal(0), high=Decimal(100))
    message = f"{label} must be a percentage from 0 to 100."
    field.error_messages.update(min_value=message, max_value=message)
    return field


def _date(label: str, hint: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        help_text=hint or "For example, 2015-03-31",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": f"{label} must be a real date, like 2015-03-31."},
    )


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

    row_form: type[RowForm] | None = None
    row_label = "Row"
    needed_for_complete: tuple[str, ...] = ()

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
            for name in self.needed_for_complete:
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


class SummaryForm(PartForm):
    boundary_differences = long_text(
        "Boundary differences",
        "Identify any differences between LA and CCG boundaries and how these have been "
        "addressed in the plan.",
        rows=5,
    )
    needed_for_complete = ("boundary_differences",)


class TextForm(PartForm):
    text = long_text("Your answer")
    needed_for_complete = ("text",)


class DocumentRow(RowForm):
    title = short_text("Title")
    url = forms.URLField(
        label="Web address",
        required=False,
        max_length=2000,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        error_messages={"invalid": "Enter a web address starting http:// or https://."},
    )

    def clean(self):
        data = super().clean()
        if data.get("url") and not data.get("title"):
            self.add_error("title", "Give the document a title.")
        if data.get("title") and not data.get("url") and "url" not in self.errors:
            self.add_error("url", "Enter the document's web address.")
        return data


class RelatedDocumentsForm(PartForm):
    row_form = DocumentRow
    row_label = "Document"


class ProtectingSocialCareForm(PartForm):
    local_definition = long_text(
        "Local definition",
        "Please outline your agreed local definition of protecting social care services.",
    )
    how_protected = long_text(
        "How services will be protected",
        "Please explain how local social care services will be protected within your plans.",
    )
    needed_for_complete = ("local_definition", "how_protected")


class SevenDayServicesForm(PartForm):
    strategic_commitment = long_text(
        "Strategic commitment",
        "Your commitment to 7-day services in health and social care to support patients being "
        "discharged and prevent unnecessary admissions at weekends.",
    )
    local_plans = long_text("Local plans", "How and when your local plans will deliver it.")
    needed_for_complete = ("strategic_commitment", "local_plans")


class DataSharingForm(PartForm):
    nhs_number_used = _yes_no(
        "Are you using the NHS Number as the primary identifier for correspondence across all "
        "health and care services?"
    )
    nhs_number_commitment = long_text(
        "Your commitment to using the NHS Number",
        "If you are not using it yet, confirm your commitment that this will be in place.",
        rows=4,
    )
    nhs_number_by = _date("Date by which the NHS Number will be the primary identifier")
    open_apis = _yes_no(
        "Are you committed to adopting systems based on open APIs and open standards?",
        "For example secure email standards and interoperability standards (ITK).",
    )
    open_apis_detail = long_text("Open APIs and open standards: detail", rows=4)
    caldicott = _yes_no(
        "Are appropriate information governance controls in place, in line with Caldicott 2?"
    )
    caldicott_detail = long_text("Information governance: detail", rows=4)
    needed_for_complete = ("nhs_number_used", "open_apis", "caldicott")

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


class JointAssessmentForm(PartForm):
    confirmation = long_text(
        "Joint assessment and accountable lead professional",
        "Confirm that local people at high risk of hospital admission have an agreed "
        "accountable lead professional and that health and social care use a joint process to "
        "assess risk, plan care and allocate a lead professional.",
        rows=5,
    )
    high_risk_percent = percent(
        "Percentage of the adult population at high risk of hospital admission"
    )
    risk_stratification = long_text(
        "Risk-stratification approach", "How you identify the people at high risk.", rows=5
    )
    joint_care_plan_percent = percent(
        "Percentage of those at high risk who have a joint care plan and an accountable "
        "professional"
    )
    needed_for_complete = (
        "confirmation",
        "high_risk_percent",
        "risk_stratification",
        "joint_care_plan_percent",
    )


class MetricRow(RowForm):
    name = short_text("Measure")
    unit = short_text("Unit", "For example: per 100,000 population, %, or number of people")
    baseline = _number("Baseline")
    baseline_date = _date("Baseline as at")

    def __init__(self, *args, plan=None, index=0, **kwargs):
        super().__init__(*args, plan=plan, index=index, **kwargs)
        self.years = plan.round.year_labels if plan else []
        for number, label in enumerate(self.years):
            self.fields[f"projection_{number}"] = _number(f"{label} projection")
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


class MetricsForm(PartForm):
    outcomes = long_text(
        "Expected outcomes and benefits",
        "Please provide details of the expected outcomes and benefits of the scheme and how "
        "these will be measured.",
    )
    row_form = MetricRow
    row_label = "Measure"
    needed_for_complete = ("outcomes",)

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


class RiskRow(RowForm):
    @property
    def rating(self) -> str:
        return risk_rating(self.initial.get("impact"), self.initial.get("probability"))

    description = long_text("Risk", rows=3)
    impact = forms.ChoiceField(
        label="Impact", required=False, choices=[("", "Choose")] + Rating.choices
    )
    probability = forms.ChoiceField(
        label="Probability", required=False, choices=[("", "Choose")] + Rating.choices
    )
    mitigation = long_text("Mitigating actions", rows=3)
    owner = short_text("Owner")
    affects_nhs_providers = forms.BooleanField(
        label="This risk affects NHS service providers", required=False
    )

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


class RisksForm(PartForm):
    row_form = RiskRow
    row_label = "Risk"
