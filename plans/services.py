"""Domain functions for areas and their partner organisations."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from plans.constants import OrganisationKind
from plans.models import Area, Organisation, Partnership


def partners_check(partners: Iterable[Organisation]) -> None:
    """The partnership rule: exactly one local authority and at least one CCG."""
    partners = list(partners)
    councils = [org for org in partners if org.kind == OrganisationKind.LOCAL_AUTHORITY]
    ccgs = [org for org in partners if org.kind == OrganisationKind.CCG]
    errors = []
    if not councils:
        errors.append("Choose the area's local authority: an area has exactly one.")
    elif len(councils) > 1:
        names = " and ".join(org.name for org in councils)
        errors.append(f"An area has exactly one local authority, not two or more ({names}).")
    if not ccgs:
        errors.append("Choose at least one clinical commissioning group.")
    if errors:
        raise ValidationError({"partners": errors})


@transaction.atomic
def organisation_save(
    *, organisation: Organisation | None = None, name: str, kind: str
) -> Organisation:
    organisation = organisation or Organisation()
    if organisation.pk and kind != organisation.kind and organisation.partnerships.exists():
        raise ValidationError(
            {"kind": "This organisation is already a partner in an area, so its kind is fixed."}
        )
    organisation.name = name.strip()
    organisation.kind = kind
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def area_save(
    *,
    area: Area | None = None,
    name: str,
    slug: str,
    boundary_differences: str = "",
    partners: Iterable[Organisation],
) -> Area:
    """Create or change an area and set its partners, all or nothing."""
    partners = list(partners)
    partners_check(partners)
    if area is not None and area.pk:
        area = Area.objects.select_for_update().get(pk=area.pk)
    else:
        area = Area()
    area.name = name.strip()
    area.slug = slug
    area.boundary_differences = boundary_differences
    area.full_clean()
    area.save()

    wanted = {org.pk for org in partners}
    current = {p.organisation_id: p for p in area.partnerships.select_related("organisation")}
    for org_id, partnership in current.items():
        if org_id not in wanted:
            try:
                partnership.delete()
            except ProtectedError as error:
                raise ValidationError(
                    {
                        "partners": f"{partnership.organisation.name} still has members in "
                        f"{area.name}. Remove their roles before removing the partner."
                    }
                ) from error
    for org in partners:
        if org.pk not in current:
            Partnership.objects.create(area=area, organisation=org)
    return area
