from django import forms

from itf_portal.forms import MoneyField
from plans.models import Area


class AllocationForm(forms.Form):
    area = forms.ModelChoiceField(
        label="Area", queryset=Area.objects.all(), empty_label="Choose an area"
    )
    year = forms.ChoiceField(label="Year")
    minimum = MoneyField(
        label="Minimum required value of the pooled budget (£)",
        name="Minimum required value of the pooled budget",
        required=True,
    )
    performance = MoneyField(
        label="Of which, paid for performance (£)",
        name="Paid for performance",
        required=True,
        help_text="Half is paid at the start of the second year on an agreed plan, half in-year.",
    )

    def __init__(self, *args, years: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, year) for year in years]


class AllocationsUploadForm(forms.Form):
    file = forms.FileField(
        label="Allocations file (CSV)",
        help_text="Columns: area,year,minimum,performance_element. Every row is checked first; "
        "nothing is saved if any row is wrong.",
    )
