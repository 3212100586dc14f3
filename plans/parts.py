"""The forms of the plan's parts, derived from the description of the template
(`plans.template`): each asked field becomes a form field of its kind, labelled in the
template's words. What a form adds of its own is only what a person needs on the page: rows
that come and go, the national measures that cannot be removed, and its checks across fields.
(`plans.registry` pairs each part with its form.)
"""

from datetime import date
from decimal import Decimal
from functools import cache

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.utils.functional import classproperty

from itf_portal.forms import DayMonthYearField, MoneyField, field_anchor
from itf_portal.money import LIMIT, money_format
from plans.constants import NATIONAL_METRICS, PartStatus, YesNo
from plans.template import (
    SHORT_LIMIT,
    TEXT_LIMIT,
    Answer,
    Cell,
    Content,
    DataSharing,
    Derived,
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
    cells,
    layout,
    questions,
    recorded_name,
    risk_rating,
)
from plans.template import Document as DocumentContent

OTHER = "other"  # the value of a choice's "Other, please describe"

FINISHED_CHOICES = [
    (PartStatus.IN_PROGRESS, "No, I will come back to it later"),
    (PartStatus.READY_FOR_REVIEW, "Yes, it is ready for review"),
    (PartStatus.COMPLETE, "Yes, mark it as complete"),
]


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
    label: str, hint: str = "", low=-LIMIT, high=LIMIT, *, name: str = ""
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


def _choice(label: str, hint: str, name: str, choices=(), widget=None) -> forms.ChoiceField:
    # Django fills in the value with %-formatting, so a "%" in the name is written as "%%".
    named = name.replace("%", "%%")
    return forms.ChoiceField(
        label=label,
        help_text=hint,
        required=False,
        choices=choices,
        widget=widget or forms.Select,
        error_messages={"invalid_choice": f"{named}: choose one of the options given."},
    )


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
            return _choice(label, hint, name, YesNo.choices, forms.RadioSelect)
        case Kind.DATE:
            return DayMonthYearField(label=label, name=name, help_text=hint)
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
            return _choice(label, hint, name, ask.choices.choices, forms.RadioSelect)
        case Kind.CHOICE:
            return _choice(label, hint, name, [("", "Choose"), *ask.choices.choices])
        case Kind.PARTNER:
            # Its choices are the plan's partners, set when the form is made.
            return _choice(label, hint, name)
        case Kind.FLAG:
            return forms.BooleanField(label=label, help_text=hint, required=False)
    raise ValueError(f"No form field for {question.kind}")


def cell_field(cell: Cell) -> forms.Field:
    """The form field for one cell: a plain field, or one period of a field with a value per
    year, labelled with its period ("2014/15 spend", "Ongoing planned savings")."""
    return form_field(cell.question, label=cell.header if cell.period else "")


def described_fields(model: type[Content]) -> dict[str, forms.Field]:
    """The form fields of a content or row model's asked fields (a value per year is added by
    the form itself, once it knows the plan's years: `add_period_fields`)."""
    return {q.name: form_field(q) for q in questions(model) if not q.ask.per}


def partner_choices(plan) -> list[tuple[str, str]]:
    return [("", "Choose a partner")] + [(str(o.pk), o.name) for o in plan.partner_organisations]


def money_typed(amount) -> str:
    """A stored amount as its input shows it, with thousands separators ("3,971,000.00")."""
    return f"{Decimal(amount):,.2f}" if amount not in ("", None) else ""


def _typed(cell: Cell, value):
    """A stored value as its input shows it: amounts with thousands separators, a partner by
    its id."""
    if cell.kind == Kind.MONEY:
        return money_typed(value)
    if cell.kind == Kind.PARTNER:
        return str(value or "")
    return "" if value is None else value


def _stored(form: forms.Form, model: type[Content], year_labels: list[str]) -> dict:
    """A bound, valid form's asked fields as the model stores them; a value per year keyed by
    year, a partner by its id with its name recorded beside it."""
    data = form.cleaned_data
    content: dict = {}
    for cell in cells(model, year_labels):
        value = _to_json(data.get(cell.name))
        name = cell.question.name
        if cell.period:
            content.setdefault(name, {})[cell.period] = value
        elif cell.kind == Kind.PARTNER:
            content[name] = int(value) if value else None
            if recorded := recorded_name(model, name):
                names = dict(form.fields[name].choices)
                content[recorded] = names.get(value, "") if value else ""
        elif cell.kind == Kind.FLAG:
            content[name] = bool(data.get(name))
        else:
            content[name] = value
    return content


def _prepare(form: forms.Form, model: type[Content], plan) -> None:
    """Add the fields the plan decides: a field per year, and the partners to choose from."""
    years = plan.round.year_labels if plan else []
    for cell in cells(model, years):
        if cell.period:
            form.fields[cell.name] = cell_field(cell)
        elif cell.kind == Kind.PARTNER:
            form.fields[cell.name].choices = partner_choices(plan) if plan else []


def shown_cell(cell: Cell | Derived, row: dict, model: type[Content]) -> str:
    """A stored value of a row as a table shows it."""
    if isinstance(cell, Derived):
        return cell.value(row)
    value = cell.value(row)
    if value in (None, "") or value is False:
        return ""  # a flag that is not set reads as nothing, not "No"
    match cell.kind:
        case Kind.MONEY:
            negated = any(row.get(name) for name in _negated_by(model, cell.question.name))
            return money_format(Decimal(value), brackets=negated)
        case Kind.PARTNER:
            recorded = recorded_name(model, cell.question.name)
            return (row.get(recorded) if recorded else "") or str(value)
        case Kind.FLAG:
            return "Yes"
        case Kind.DAYS:
            return f"{value} working days"
        case Kind.YES_NO:
            return dict(YesNo.choices).get(value, value)
        case Kind.CHOICE:
            described = _described_by(model, cell.question.name)
            if value == OTHER and described and row.get(described):
                return str(row[described])  # "Other" reads as what it is
            return str(_choice_labels(cell.question.ask.choices).get(value, value))
    return str(value)


# What a cell's reading depends on beside its value, worked out once per model (a table of 300
# schemes reads 2,700 cells).
@cache
def _negated_by(model: type[Content], name: str) -> tuple[str, ...]:
    """The flags that, when set, show this amount in brackets (an income line's spend)."""
    return tuple(q.name for q in questions(model) if q.ask.negates == name)


@cache
def _described_by(model: type[Content], name: str) -> str:
    """The field that describes this choice's "Other", or ""."""
    return next((q.name for q in questions(model) if q.ask.other_of == name), "")


@cache
def _choice_labels(choices) -> dict:
    return dict(choices.choices)


def needed(model: type[Content]) -> tuple[str, ...]:
    return tuple(q.name for q in questions(model) if q.ask.needed)


def _to_json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def _something_typed(data) -> bool:
    """Whether anything was typed in an input as posted (a date's is its day, month and year)."""
    if isinstance(data, list | tuple):
        return any(part not in (None, "") for part in data)
    return data not in (None, "", False)


def _blank(value) -> bool:
    return value in (None, "", [], False)


class RowForm(forms.Form):
    """One row of a list part, its fields derived from the row model (`content_model`).

    What a row holds depends only on what was posted for it, never on what was stored when the
    page was drawn, so a save checked against a colleague's newer rows means the same thing.
    """

    content_model: type[Content] = Content
    alone = False  # edited on its own page (`row_page_form`), where it is always kept

    def __init__(self, *args, plan=None, index=0, **kwargs):
        self.plan = plan
        self.index = index
        self.years = plan.round.year_labels if plan else []
        super().__init__(*args, **kwargs)
        _prepare(self, self.content_model, plan)

    @property
    def kept(self) -> bool:
        """Whether this row is saved: something was typed in it and it is not marked for removal."""
        if self.alone:
            return True
        if "DELETE" in self.fields and self["DELETE"].data:
            return False
        return any(_something_typed(self[name].data) for name in self.fields if name != "DELETE")

    @classmethod
    def initial_from(cls, row: dict, plan) -> dict:
        return {
            cell.name: _typed(cell, cell.value(row))
            for cell in cells(cls.content_model, plan.round.year_labels)
        }

    @classmethod
    def shown_cells(cls, plan) -> list[Cell | Derived]:
        """The columns of the stored rows as a table shows them (a description of "other" is
        read in its choice's column)."""
        return [
            item
            for item in layout(cls.content_model, plan.round.year_labels)
            if isinstance(item, Derived) or not item.question.ask.other_of
        ]

    @classmethod
    def overview_cells(cls, plan) -> list[Cell | Derived]:
        """The columns of the overview of a table whose rows are edited one to a page."""
        chosen = cls.content_model.overview
        return [
            item
            for item in cls.shown_cells(plan)
            if (item.label if isinstance(item, Derived) else item.question.name) in chosen
        ]

    @classmethod
    def columns(cls, plan) -> list[tuple[str, object]]:
        """(heading, row -> shown value) for showing stored rows as a table."""
        model = cls.content_model
        return [
            (
                item.label if isinstance(item, Derived) else item.header,
                lambda row, item=item: shown_cell(item, row, model),
            )
            for item in cls.shown_cells(plan)
        ]

    @classmethod
    def total_row(cls, plan, rows: list[dict]) -> list[str] | None:
        """A last row of totals under the table of stored rows (a hook; none by default)."""
        return None

    def content(self) -> dict:
        return _stored(self, self.content_model, self.years)


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
        error_messages={
            "required": "Say whether you have finished this part.",
            "invalid_choice": "Say whether you have finished this part.",
        },
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(
        self,
        data=None,
        *,
        plan,
        content=None,
        version=0,
        status=PartStatus.IN_PROGRESS,
        with_rows=True,
    ):
        self.plan = plan
        content = content or {}
        initial = {
            cell.name: _typed(cell, cell.value(content))
            for cell in cells(self.content_model, plan.round.year_labels)
        }
        initial["base_version"] = version
        initial["status"] = PartStatus.IN_PROGRESS if status == PartStatus.NOT_STARTED else status
        super().__init__(data, initial=initial)
        _prepare(self, self.content_model, plan)
        self.rows = None
        # Without its rows (the web page of a long table, whose rows are each edited on their
        # own page) the form keeps the rows as given; the workbook's import takes them all.
        self.stored_rows = list(content.get("rows", []))
        if self.row_form and with_rows:
            factory = forms.formset_factory(
                self.row_form, formset=RowFormSet, extra=1, can_delete=True, max_num=1000
            )
            self.rows = factory(
                data,
                prefix="rows",
                initial=[self.row_form.initial_from(row, plan) for row in content.get("rows", [])],
                form_kwargs={"plan": plan},
            )

    @classproperty
    def rows_apart(cls) -> bool:
        """Whether the part's rows are each edited on their own page, under an overview."""
        return cls.row_form is not None and bool(cls.row_form.content_model.overview)

    @classmethod
    def labelled(cls, content: dict) -> dict[str, str]:
        """What the part holds beyond its asked fields (a grid's cells), each under a readable
        name, for the history's differences (a hook; nothing by default)."""
        return {}

    @classmethod
    def display(cls, plan, content: dict) -> dict | None:
        """The part laid out for reading, where it is not its fields and then its rows (a hook;
        `plans.registry.part_display` lays out the rest)."""
        return None

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
        content = _stored(self, self.content_model, self.plan.round.year_labels)
        if self.rows is not None:
            content["rows"] = [form.content() for form in self.rows.forms if form.kept]
        elif self.row_form is not None:
            content["rows"] = self.stored_rows
        return content

    def row_errors(self) -> list[tuple[str, str]]:
        """(anchor, message) pairs for the error summary, naming the row."""
        if self.rows is None or not self.rows.is_bound:
            return []
        items = [("", message) for message in self.rows.non_form_errors()]
        for number, form in enumerate(self.rows.forms, start=1):
            for bound in form:
                for message in bound.errors:
                    items.append((field_anchor(bound), f"{self.row_label} {number}: {message}"))
            for message in form.non_field_errors():
                items.append(("", f"{self.row_label} {number}: {message}"))
        return items


class RowPage:
    """A row form on the row's own page: beside the row's fields, the part's version and the row
    as it was when the page was drawn (`plans.services.row_fingerprint`, empty for a new row),
    and where the row goes in the table. Every row is checked as kept (a blank one is refused,
    not left out)."""

    alone = True
    place_fields = {
        "base_version": forms.IntegerField(widget=forms.HiddenInput, min_value=0),
        "was": forms.CharField(widget=forms.HiddenInput, required=False, max_length=64),
        "position": forms.IntegerField(
            label="Position in the table",
            widget=forms.TextInput(attrs={"inputmode": "numeric"}),
            error_messages={
                "required": "Enter the position in the table, as a whole number.",
                "invalid": "Enter the position in the table, as a whole number.",
            },
        ),
    }

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.place_fields:  # after the row's own, as the page lays them out
            self.fields[name] = self.fields.pop(name)
        position = self.fields["position"]
        position.help_text = (
            f"1 is first, {count} is last." if count > 1 else "It is the only one for now."
        )
        message = f"Enter a position from 1 to {count}."
        position.validators = [MinValueValidator(1, message), MaxValueValidator(count, message)]

    @property
    def content_bound(self) -> list:
        """The row's own inputs, in order (the place's are laid out apart)."""
        return [self[name] for name in self.fields if name not in self.place_fields]


@cache
def row_page_form(row_form: type[RowForm]) -> type:
    """The form of a row's own page (`RowPage`) for a part's row form."""
    return type(f"{row_form.__name__}Page", (RowPage, row_form), dict(RowPage.place_fields))


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
        # The national measures are always the first rows, in a fixed order.
        self.national = index < len(NATIONAL_METRICS)
        if self.national:
            self.fields["name"].disabled = True
            self.fields["name"].initial = NATIONAL_METRICS[index]

    def clean(self):
        data = super().clean()
        if not self.national and self.kept and not data.get("name"):
            self.add_error("name", "Name the local measure.")
        return data

    def content(self) -> dict:
        content = super().content()
        if self.national:
            content["name"] = NATIONAL_METRICS[self.index]
        return {**content, "national": bool(self.national)}

    @property
    def kept(self) -> bool:
        return self.national or super().kept


class MetricsForm(part_form(Metrics)):
    row_form = MetricRow
    row_label = "Measure"

    def __init__(self, data=None, *, plan, content=None, **kwargs):
        content = dict(content or {})
        content["rows"] = Metrics.rows_shown(content)
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
                    _blank(row.get(cell.name)) for cell in Metric.national_needs(form.years)
                ):
                    self.add_error(
                        None,
                        f"Give “{NATIONAL_METRICS[form.index]}” a baseline, its date and every "
                        "projection before marking this part complete.",
                    )
        return data


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


class RisksForm(part_form(Risks)):
    row_form = RiskRow
    row_label = "Risk"
