"""Carry every plan's pooled fund parts from their saved content into the fund's tables.

The rows are written by the same function that writes them on every save (`finance.fund.
fund_store`), given this migration's models, so a migrated plan holds exactly the rows a save of
its content would write. The parts' content, history, seals and import snapshots are unchanged:
they keep the shape the template's description gives them, and old seals still verify.
"""

from types import SimpleNamespace

from django.db import migrations

FUND_KEYS = ("contributions", "arrangements", "schemes", "spend", "contingency")
TABLES = (
    "Contribution",
    "Scheme",
    "SchemeAmount",
    "SpendAmount",
    "ContingencyOutcome",
    "ContingencyAmount",
    "Arrangement",
    "RiskShare",
)


def fill(apps, schema_editor):
    from finance.fund import fund_store

    tables = SimpleNamespace(
        **{name: apps.get_model("finance", name) for name in TABLES},
        Organisation=apps.get_model("plans", "Organisation"),
    )
    Part = apps.get_model("plans", "Part")
    # A part never saved (version 0) has no rows, as it has none after a save of nothing.
    saved = Part.objects.filter(key__in=FUND_KEYS, version__gt=0)
    for plan_id, key, content in saved.values_list("plan_id", "key", "content"):
        fund_store(plan_id, key, content or {}, tables=tables)


def empty(apps, schema_editor):
    for name in TABLES:
        apps.get_model("finance", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("finance", "0002_fund_tables")]

    operations = [migrations.RunPython(fill, empty)]
