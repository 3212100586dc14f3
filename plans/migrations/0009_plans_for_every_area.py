"""Every area's plan for every round, with a row for every part, made here for the areas that
existed before plans were made with their area (`plans.services.area_save`): from now on reading a
plan never writes. The rounds and parts are written out as they were when it was made: a part
added to the template later reaches every plan through `plans.services.parts_complete`, run after
every migrate, and a new round comes with its own migration."""

from django.db import migrations

ROUNDS = [
    {
        "slug": "itf-2014",
        "name": "Integration Transformation Fund 2014/15 and 2015/16",
        "baseline_year": 2013,
        "first_year": 2014,
        "last_year": 2015,
    }
]
PART_KEYS = [
    "summary",
    "provider_engagement",
    "public_engagement",
    "related_documents",
    "vision",
    "aims",
    "planned_changes",
    "acute_sector",
    "governance",
    "protecting_social_care",
    "seven_day_services",
    "data_sharing",
    "joint_assessment",
    "metrics",
    "contributions",
    "arrangements",
    "schemes",
    "spend",
    "contingency",
    "risks",
]


def plans_for_every_area(apps, schema_editor):
    Area = apps.get_model("plans", "Area")
    PlanningRound = apps.get_model("plans", "PlanningRound")
    Plan = apps.get_model("plans", "Plan")
    Part = apps.get_model("plans", "Part")
    for definition in ROUNDS:
        planning_round, _ = PlanningRound.objects.get_or_create(
            slug=definition["slug"], defaults=definition
        )
        for area in Area.objects.all():
            plan, _ = Plan.objects.get_or_create(area=area, round=planning_round)
            present = set(Part.objects.filter(plan=plan).values_list("key", flat=True))
            Part.objects.bulk_create(
                [
                    Part(
                        plan=plan,
                        key=key,
                        content=(
                            {"boundary_differences": area.boundary_differences}
                            if key == "summary"
                            else {}
                        ),
                    )
                    for key in PART_KEYS
                    if key not in present
                ],
                ignore_conflicts=True,
            )


class Migration(migrations.Migration):
    dependencies = [("plans", "0008_part_titles_from_the_template")]

    operations = [migrations.RunPython(plans_for_every_area, migrations.RunPython.noop)]
