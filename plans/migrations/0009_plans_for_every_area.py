"""Every area's plan for every round, with a row for every part, made here for the areas that
existed before plans were made with their area (`plans.services.area_save`): from now on reading a
plan never writes. A round or a part added later is made by its own migration like this one."""

from django.db import migrations

from plans.constants import ROUNDS, PartKey


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
                            if key == PartKey.SUMMARY
                            else {}
                        ),
                    )
                    for key in PartKey.values
                    if key not in present
                ],
                ignore_conflicts=True,
            )


class Migration(migrations.Migration):
    dependencies = [("plans", "0008_part_titles_from_the_template")]

    operations = [migrations.RunPython(plans_for_every_area, migrations.RunPython.noop)]
