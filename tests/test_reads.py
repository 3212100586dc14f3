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
