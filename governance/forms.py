from django import forms

from governance.constants import Role
from plans.models import Organisation


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="If this person has no account yet, one is made and they are emailed a link "
        "to choose their password.",
    )
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    organisation = forms.ModelChoiceField(
        label="On behalf of",
        queryset=Organisation.objects.none(),
        empty_label="Choose a partner organisation",
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, widget=forms.RadioSelect)

    def __init__(self, *args, area, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = area.partners.all()
