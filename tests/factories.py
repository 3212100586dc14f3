"""Factories that build through the domain functions, so tests meet the same rules as users."""

import factory
from django.contrib.auth import get_user_model

from governance.services import membership_add
from plans.constants import OrganisationKind
from plans.models import Organisation
from plans.services import area_save

PASSWORD = "Correct-Horse-2014"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Council {n}")
    kind = OrganisationKind.LOCAL_AUTHORITY


def area_make(name: str, *, ccg_count: int = 1, ccgs=None):
    council = OrganisationFactory(name=f"{name} Council")
    ccgs = ccgs or [
        OrganisationFactory(name=f"NHS {name} CCG {i + 1}", kind=OrganisationKind.CCG)
        for i in range(ccg_count)
    ]
    return area_save(name=name, slug=name.lower(), partners=[council, *ccgs])


def member_make(area, role: str, *, organisation=None, user=None, **user_fields):
    user = user or UserFactory(**user_fields)
    organisation = organisation or area.partners.order_by("-kind").first()
    membership_add(area=area, organisation=organisation, user=user, role=role)
    return user


def part_post_data(plan, key: str, content: dict, *, status="in_progress", version=None) -> dict:
    """The POST a browser sends for a part's form showing this content."""
    from itf_portal.forms import form_data
    from plans.registry import PART_BY_KEY

    part = plan.parts.get(key=key)
    form = PART_BY_KEY[key].form(
        plan=plan,
        content=content,
        version=part.version if version is None else version,
        status=status,
    )
    return form_data(form)
