"""Reads stay reads: showing any page of a plan writes nothing to the database, and a plan's rows
exist from the moment its area does (made with the area, or by migration for older areas)."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.constants import Role
from plans.constants import ROUNDS, PartKey
from plans.models import Part, Plan
from plans.registry import PARTS
from tests.factories import area_make, member_make

PLAN = "/areas/southampton/plans/itf-2014/"
WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.mark.parametrize("who", ["reviewer", "commissioner", "admin", "national"])
def test_no_page_of_a_plan_writes_when_it_is_read(client, world, who):
    member_make(world.area, Role.FINANCE_LEAD, username="finance")
    pages = [
        "/",
        "/areas/southampton/",
        PLAN,
        f"{PLAN}finance/",
        f"{PLAN}check/",
        f"{PLAN}sign-off/",
        f"{PLAN}milestones/",
        *(f"{PLAN}parts/{spec.key}/" for spec in PARTS),
        *(f"{PLAN}parts/{spec.key}/history/" for spec in PARTS),
    ]
    client.force_login(getattr(world, who))
    for page in pages:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(page)
        assert answer.status_code == 200, page
        assert _writes(queries.captured_queries) == [], page


def test_a_new_area_has_its_plan_for_every_round_with_every_part(db):
    area = area_make("Leeds")
    plans = Plan.objects.filter(area=area)
    assert sorted(p.round.slug for p in plans) == sorted(r["slug"] for r in ROUNDS)
    for plan in plans:
        assert sorted(plan.parts.values_list("key", flat=True)) == sorted(PartKey.values)


def test_the_migration_makes_the_plans_of_areas_that_had_none(db):
    area = area_make("Leeds", ccg_count=1)
    area.boundary_differences = "Leeds CCGs cross the boundary."
    area.save()
    Part.objects.filter(plan__area=area).delete()
    Plan.objects.filter(area=area).delete()
    migration = importlib.import_module("plans.migrations.0009_plans_for_every_area")
    migration.plans_for_every_area(apps, None)
    migration.plans_for_every_area(apps, None)  # twice is the same as once
    plan = Plan.objects.get(area=area)
    assert plan.parts.count() == len(PartKey.values)
    summary = plan.parts.get(key=PartKey.SUMMARY).content
    assert summary == {"boundary_differences": "Leeds CCGs cross the boundary."}


def test_a_page_reads_the_users_area_permissions_once(client, world):
    """The narrative page checks several permissions (view, edit, comment, assign); guardian is
    asked once for the user's and once for their groups' permissions on the area, not per check."""
    client.force_login(world.commissioner)
    client.get(f"{PLAN}parts/vision/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{PLAN}parts/vision/").status_code == 200
    guardian = [q for q in queries.captured_queries if "guardian_" in q["sql"]]
    assert len(guardian) <= 2


def test_a_role_given_or_taken_is_seen_at_once(world):
    """The user object whose roles change forgets what it remembered; any other object for the
    same person (the next request's) reads afresh."""
    from governance.models import Membership
    from governance.permissions import has_area_perm
    from governance.services import membership_remove
    from plans.constants import AreaPermission

    user = world.reviewer
    assert not has_area_perm(user, AreaPermission.EDIT_PLAN, world.area)
    member_make(world.area, Role.COMMISSIONER, user=user)
    assert has_area_perm(user, AreaPermission.EDIT_PLAN, world.area)
    membership = Membership.objects.get(user=user, role=Role.COMMISSIONER)
    membership_remove(membership=membership)
    assert not has_area_perm(membership.user, AreaPermission.EDIT_PLAN, world.area)
    next_request = type(user).objects.get(pk=user.pk)
    assert not has_area_perm(next_request, AreaPermission.EDIT_PLAN, world.area)
