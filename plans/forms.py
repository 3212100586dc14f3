from django import forms
from django.utils.text import slugify

from plans.constants import OrganisationKind
from plans.models import Area, Organisation


class OrganisationForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    kind = forms.ChoiceField(
        label="Kind of organisation", choices=OrganisationKind.choices, widget=forms.RadioSelect
    )


class AreaForm(forms.Form):
    name = forms.CharField(label="Health and Wellbeing Board area", max_length=200)
    slug = forms.SlugField(
        label="Short name for web addresses",
        max_length=60,
        required=False,
        help_text="Lower-case letters, numbers and hyphens, for example southampton. "
        "Left empty, it is made from the name.",
    )
    local_authority = forms.ModelChoiceField(
        label="Local authority",
        queryset=Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY),
        empty_label="Choose the local authority",
        help_text="An area has exactly one local authority.",
    )
    ccgs = forms.ModelMultipleChoiceField(
        label="Clinical commissioning groups",
        queryset=Organisation.objects.filter(kind=OrganisationKind.CCG),
        widget=forms.CheckboxSelectMultiple,
        help_text="Choose every CCG that is a partner in this area (at least one). "
        "A CCG may be a partner in more than one area.",
        error_messages={"required": "Choose at least one clinical commissioning group."},
    )
    boundary_differences = forms.CharField(
        label="Boundary differences",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=Area._meta.get_field("boundary_differences").help_text,
    )

    def clean(self):
        data = super().clean()
        if data.get("name") and not data.get("slug"):
            data["slug"] = slugify(data["name"])[:60]
        return data

    @classmethod
    def initial_for(cls, area: Area) -> dict:
        partners = list(area.partners.all())
        return {
            "name": area.name,
            "slug": area.slug,
            "boundary_differences": area.boundary_differences,
            "local_authority": next((o for o in partners if o.is_local_authority), None),
            "ccgs": [o for o in partners if not o.is_local_authority],
        }
