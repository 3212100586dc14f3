"""Who may do what: roles map to django-guardian object permissions here, and only here.

Object permissions on an Area are recomputed from the person's memberships whenever those change
(`permissions_sync`). National admins hold the same permissions globally, through their group, so
they see and manage every area.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import assign_perm, get_objects_for_user, get_user_perms, remove_perm

from governance.constants import NATIONAL_ADMIN_GROUP, Role
from governance.models import Membership
from plans.constants import (
    APPROVE_PLAN,
    ASSIGN_PARTS,
    COMMENT_PLAN,
    EDIT_FINANCE,
    EDIT_PLAN,
    MANAGE_MEMBERS,
    MARK_SUBMITTED,
    REOPEN_PLAN,
    SUBMIT_PLAN,
    VIEW_AREA,
)
from plans.models import Area
from plans.services import plan_by_slugs

_MEMBER = frozenset({VIEW_AREA, COMMENT_PLAN})
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.COMMISSIONER: _MEMBER | {EDIT_PLAN, SUBMIT_PLAN},
    Role.FINANCE_LEAD: _MEMBER | {EDIT_FINANCE},
    Role.SIGNATORY: _MEMBER,
    Role.HWB_CHAIR: _MEMBER | {APPROVE_PLAN},
    Role.REVIEWER: _MEMBER,
    Role.AREA_ADMIN: _MEMBER
    | {MANAGE_MEMBERS, ASSIGN_PARTS, EDIT_FINANCE, SUBMIT_PLAN, REOPEN_PLAN, MARK_SUBMITTED},
}
AREA_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())

NATIONAL_ADMIN_PERMISSIONS = [
    "plans.view_area",
    "plans.comment_plan",
    "plans.manage_members",
    "plans.assign_parts",
    "plans.add_area",
    "plans.change_area",
    "plans.view_organisation",
    "plans.add_organisation",
    "plans.change_organisation",
]

# What a member who lacks a permission is told (403), by permission.
REFUSALS = {
    MANAGE_MEMBERS: "Only the area admin can change who is a member of this area.",
    EDIT_PLAN: "Only commissioners of this area can change this part. You can read it and comment.",
    EDIT_FINANCE: "Only finance leads and the area admin can change the pooled fund. You can read "
    "it and comment.",
    COMMENT_PLAN: "Only members of this area can comment on its plan.",
    ASSIGN_PARTS: "Only the area admin can assign parts and set due dates.",
    SUBMIT_PLAN: "Only commissioners and the area admin can submit the plan for sign-off.",
    REOPEN_PLAN: "Only the area admin can reopen the plan for editing.",
    APPROVE_PLAN: "Only the chair of the Health and Wellbeing Board can approve the plan.",
    MARK_SUBMITTED: "Only the area admin can mark the plan as submitted.",
}


# Who holds a permission, in words, for a page that tells a person who can act.
WHO_CAN = {
    EDIT_PLAN: "a commissioner of this area",
    EDIT_FINANCE: "a finance lead or the area admin",
}


def members_who_can(area: Area, codename: str) -> QuerySet:
    """The area's members whose roles give them this permission (e.g. who can edit a part, so
    who it may be assigned to)."""
    roles = [role for role, granted in ROLE_PERMISSIONS.items() if codename in granted]
    return (
        get_user_model()
        .objects.filter(memberships__partnership__area=area, memberships__role__in=roles)
        .distinct()
    )


def organisations_for(user, area_id: int, roles) -> frozenset[int]:
    """The partners in the area this person holds any of these roles for (a signatory signs, a
    finance lead confirms a return, for their own partner only)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    return frozenset(
        Membership.objects.filter(
            user=user, partnership__area_id=area_id, role__in=roles
        ).values_list("partnership__organisation_id", flat=True)
    )


def permissions_sync(*, user, area: Area) -> None:
    """Make the user's object permissions on the area exactly those their roles give."""
    roles = Membership.objects.filter(user=user, partnership__area=area).values_list(
        "role", flat=True
    )
    wanted = frozenset().union(*(ROLE_PERMISSIONS[role] for role in roles))
    held = set(get_user_perms(user, area)) & AREA_PERMISSIONS
    for codename in wanted - held:
        assign_perm(codename, user, area)
    for codename in held - wanted:
        remove_perm(codename, user, area)
    user.__dict__.pop(CHECKER, None)  # what it remembered has changed


def permissions_sync_all() -> None:
    """Recompute everyone's area permissions, e.g. after the role map above has changed."""
    pairs = Membership.objects.values_list("user_id", "partnership__area_id").distinct()
    users = {user.pk: user for user in get_user_model().objects.filter(memberships__isnull=False)}
    areas = Area.objects.in_bulk()
    for user_id, area_id in pairs:
        permissions_sync(user=users[user_id], area=areas[area_id])


def national_admin_group_sync() -> Group:
    group, _ = Group.objects.get_or_create(name=NATIONAL_ADMIN_GROUP)
    wanted = []
    for perm in NATIONAL_ADMIN_PERMISSIONS:
        app_label, codename = perm.split(".")
        wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    group.permissions.set(wanted)
    return group


# Where a user object keeps whether it is a national admin (asked by every page's header).
NATIONAL = "_is_national_admin"


def is_national_admin(user) -> bool:
    """A member of the national admins' group (whose permissions `national_admin_group_sync`
    sets), or a superuser: one query, answered from memory after the first."""
    if not (user.is_authenticated and user.is_active):
        return False
    if NATIONAL not in user.__dict__:
        user.__dict__[NATIONAL] = (
            user.is_superuser or user.groups.filter(name=NATIONAL_ADMIN_GROUP).exists()
        )
    return user.__dict__[NATIONAL]


# Where a user object keeps what guardian has told it about its areas (see has_area_perm).
CHECKER = "_area_permissions_held"


def has_area_perm(user, codename: str, area: Area) -> bool:
    """May the user do this in the area: a national admin's global permission, or one their
    roles in the area give. The area permissions are read once per user object and area, as
    Django reads global ones: a request's checks after the first are answered from memory (kept
    on the user; `permissions_sync` lets go of them). Roles give permissions to the person, never
    to a group (`permissions_sync`), so one query reads them."""
    if not (user.is_authenticated and user.is_active):
        return False
    held = user.__dict__.setdefault(CHECKER, {})
    if area.pk not in held:
        held[area.pk] = set(get_user_perms(user, area))
    # A member's own roles answer most checks; only then the global permissions (two queries).
    return codename in held[area.pk] or (
        is_national_admin(user) and user.has_perm(f"plans.{codename}")
    )


def areas_for_user(user, codename: str = VIEW_AREA) -> QuerySet[Area]:
    # Global permissions count for national admins only, as in has_area_perm.
    return get_objects_for_user(
        user, f"plans.{codename}", klass=Area, accept_global_perms=is_national_admin(user)
    )


def area_for_user(user, slug: str, codename: str = VIEW_AREA) -> Area:
    """The area, if the user may see it (else 404) and holds the permission (else 403)."""
    return _area_allowed(user, Area.objects.filter(slug=slug).first(), codename)


def _area_allowed(user, area: Area | None, codename: str) -> Area:
    if area is None or not has_area_perm(user, VIEW_AREA, area):
        raise Http404("No such area.")
    if codename != VIEW_AREA and not has_area_perm(user, codename, area):
        raise PermissionDenied(REFUSALS[codename])
    return area


def require_national_admin(
    user, message: str = "Only national admins can manage areas and organisations."
) -> None:
    if not is_national_admin(user):
        raise PermissionDenied(message)


def plan_for_user(user, slug: str, round_slug: str, codename: str = VIEW_AREA):
    """The area's plan for the round, under the same rule as the area (404, then 403)."""
    plan = plan_by_slugs(slug, round_slug)  # with its area: one query for both
    if plan is None:
        area_for_user(user, slug, codename)
        raise Http404("No such planning round.")
    _area_allowed(user, plan.area, codename)
    return plan
