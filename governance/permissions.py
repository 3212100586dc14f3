"""Who may do what: roles map to django-guardian object permissions here, and only here.

Object permissions on an Area are recomputed from the person's memberships whenever those change
(`permissions_sync`). National admins hold the same permissions globally, through their group, so
they see and manage every area.
"""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import assign_perm, get_objects_for_user, get_user_perms, remove_perm

from governance.constants import NATIONAL_ADMIN_GROUP, Role
from plans.models import Area

VIEW_AREA = "view_area"
MANAGE_MEMBERS = "manage_members"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.COMMISSIONER: frozenset({VIEW_AREA}),
    Role.FINANCE_LEAD: frozenset({VIEW_AREA}),
    Role.SIGNATORY: frozenset({VIEW_AREA}),
    Role.HWB_CHAIR: frozenset({VIEW_AREA}),
    Role.REVIEWER: frozenset({VIEW_AREA}),
    Role.AREA_ADMIN: frozenset({VIEW_AREA, MANAGE_MEMBERS}),
}
AREA_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())

NATIONAL_ADMIN_PERMISSIONS = [
    "plans.view_area",
    "plans.manage_members",
    "plans.add_area",
    "plans.change_area",
    "plans.view_organisation",
    "plans.add_organisation",
    "plans.change_organisation",
]

# What a member who lacks a permission is told (403), by permission.
REFUSALS = {
    MANAGE_MEMBERS: "Only the area admin can change who is a member of this area.",
}


def permissions_sync(*, user, area: Area) -> None:
    """Make the user's object permissions on the area exactly those their roles give."""
    from governance.models import Membership

    roles = Membership.objects.filter(user=user, partnership__area=area).values_list(
        "role", flat=True
    )
    wanted = frozenset().union(*(ROLE_PERMISSIONS[role] for role in roles))
    held = set(get_user_perms(user, area)) & AREA_PERMISSIONS
    for codename in wanted - held:
        assign_perm(codename, user, area)
    for codename in held - wanted:
        remove_perm(codename, user, area)


def national_admin_group_sync() -> Group:
    group, _ = Group.objects.get_or_create(name=NATIONAL_ADMIN_GROUP)
    wanted = []
    for perm in NATIONAL_ADMIN_PERMISSIONS:
        app_label, codename = perm.split(".")
        wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    group.permissions.set(wanted)
    return group


def is_national_admin(user) -> bool:
    return user.is_authenticated and user.has_perm("plans.change_area")


def has_area_perm(user, codename: str, area: Area) -> bool:
    perm = f"plans.{codename}"
    return user.is_authenticated and (user.has_perm(perm) or user.has_perm(perm, area))


def areas_for_user(user, codename: str = VIEW_AREA) -> QuerySet[Area]:
    return get_objects_for_user(user, f"plans.{codename}", klass=Area, accept_global_perms=True)


def area_for_user(user, slug: str, codename: str = VIEW_AREA) -> Area:
    """The area, if the user may see it (else 404) and holds the permission (else 403)."""
    area = Area.objects.filter(slug=slug).first()
    if area is None or not has_area_perm(user, VIEW_AREA, area):
        raise Http404("No such area.")
    if codename != VIEW_AREA and not has_area_perm(user, codename, area):
        raise PermissionDenied(REFUSALS[codename])
    return area


def require_national_admin(user) -> None:
    if not is_national_admin(user):
        raise PermissionDenied("Only national admins can manage areas and organisations.")
