"""The pooled fund in tables: every save of a fund part writes its rows, the database refuses
what must never be true, totals are SQL sums equal to the rules' figures, and the data
migration fills the tables exactly as a save would."""

from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction

from finance import models as fund
from finance.fund import FUND_PARTS, fund_totals
from finance.rules import contribution_amounts, pooled_budget, scheme_net_spend
from finance.services import contribution_set, part_save
from plans import services as plans_services
from plans.models import Part, Plan
from plans.services import plan_current_round, plan_open

ROW_TABLES = [
    fund.Contribution,
    fund.Scheme,
    fund.SchemeAmount,
    fund.SpendAmount,
    fund.ContingencyOutcome,
    fund.ContingencyAmount,
    fund.Arrangement,
    fund.RiskShare,
]


@pytest.fixture
def demo(drafting_demo, db):
    """The demo with every plan in Drafting, so that any of them can be edited and imported."""


def everything() -> dict:
    """Every row of every fund table, as plain values (ids of the rows themselves left out)."""
    # A row's parent is named by its plan and position, not by its (new) id.
    parents = {"scheme_id": ["scheme__plan_id", "scheme__position"]}
    parents["outcome_id"] = ["outcome__plan_id", "outcome__position"]
    found = {}
    for model in ROW_TABLES:
        fields = []
        for f in model._meta.concrete_fields:
            if f.name != "id":
                fields += parents.get(f.attname, [f.attname])
        found[model.__name__] = sorted(
            (tuple(str(v) for v in row) for row in model.objects.values_list(*fields)),
        )
    return found


def test_sql_totals_are_the_rules_figures_for_every_demo_plan(demo):
    plans = list(Plan.objects.select_related("round"))
    years = plans[0].round.year_labels
    totals = fund_totals([plan.pk for plan in plans], years)
    checked = 0
    for plan in plans:
        content = dict(plan.parts.values_list("key", "content"))
        # A plan past Drafting cannot change, so its tables hold what its seal holds.
        seal = plan.seals.order_by("-number").first()
        if seal and plan.state != "drafting":
            sealed = {k: (v or {}).get("content") or {} for k, v in seal.snapshot["parts"].items()}
            assert {k: sealed[k] for k in FUND_PARTS} == {k: content[k] for k in FUND_PARTS}
        assert totals[plan.pk].pooled == pooled_budget(content["contributions"], years)
        assert totals[plan.pk].net_spend == scheme_net_spend(content["schemes"], years)
        assert totals[plan.pk].schemes == len(content["schemes"].get("rows", []))
        for entry in contribution_amounts(content["contributions"]):
            assert totals[plan.pk].by_stream[entry["stream"], entry["year"]] >= Decimal(
                entry["amount"]
            )
        checked += 1
    assert checked == len(plans) >= 4
    assert fund.Contribution.objects.count() > 10 and fund.SchemeAmount.objects.count() > 10


def test_the_data_migration_fills_the_tables_exactly_as_saves_did(demo):
    from importlib import import_module

    plan = Plan.objects.get(area__slug="walsall")
    council, ccg = plan.partner_organisations[:2]
    parts = {part.key: part for part in plan.parts.all()}
    for key, content in {
        "arrangements": {
            "host_partner": council.pk,
            "host_partner_name": council.name,
            "fund_manager": "Head of Joint Commissioning",
            "risk_share_basis": "agreed",
            "materiality_threshold": "500000.00",
            "notice_days": 10,
            "shares": {str(council.pk): "25", str(ccg.pk): "75"},
            "share_names": {str(council.pk): council.name, str(ccg.pk): ccg.name},
        },
        "spend": {
            "lines": {"la_social_services": {"spend": {"2013/14": "1000"}, "benefits": {}}},
            "line_labels": {"la_social_services": "Local Authority Social Services"},
        },
        "contingency": {
            "rows": [{"outcome": "Fewer admissions", "savings": {"2015/16": "10"}, "support": {}}]
        },
    }.items():
        part = parts[key]
        part_save(
            part=part, content=content, status="in_progress", base_version=part.version, user=None
        )
    saved = everything()
    assert all(saved.values()), [name for name, rows in saved.items() if not rows]
    for model in ROW_TABLES:
        model.objects.all().delete()
    migration = import_module("finance.migrations.0003_fund_tables_filled")
    migration.fill(django_apps, None)
    assert everything() == saved


def test_the_database_refuses_a_negative_a_duplicate_or_a_share_over_100(demo):
    row = fund.Contribution.objects.first()
    for change in (
        {"amount": Decimal("-1")},
        {"stream": "nope"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            fund.Contribution.objects.filter(pk=row.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        fund.Contribution.objects.create(
            plan_id=row.plan_id,
            organisation_id=row.organisation_id,
            stream=row.stream,
            year=row.year,
            amount=1,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        fund.RiskShare.objects.create(
            plan_id=row.plan_id, organisation_id=row.organisation_id, share=Decimal("150")
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        fund.Arrangement.objects.create(plan_id=row.plan_id, notice_days=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        fund.SchemeAmount.objects.filter(pk=fund.SchemeAmount.objects.first().pk).update(
            spend=Decimal("-5")
        )


def test_a_fund_part_is_saved_only_through_finance(demo):
    plan = plan_open(area=Plan.objects.get(area__slug="walsall").area, round=plan_current_round())
    part = plan.parts.get(key="schemes")
    with pytest.raises(ImproperlyConfigured):
        plans_services.part_save(
            part=part, content={}, status="in_progress", base_version=part.version, user=None
        )
    assert Part.objects.get(pk=part.pk).version == part.version
    part_save(
        part=part, content={"rows": []}, status="in_progress", base_version=part.version, user=None
    )
    assert not fund.Scheme.objects.filter(plan=plan).exists()


def test_writes_lock_their_own_rows_never_the_area_or_the_round_every_plan_shares(demo):
    """A lock taken through a join locks the joined rows too: one on the planning round would
    queue every area's saves behind each other. And the plan is locked before its part, in
    every write, so two writes at once wait rather than deadlock."""
    from io import BytesIO

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from openpyxl import load_workbook

    from plans.exports.importer import import_apply, import_pending, import_preview
    from plans.exports.service import plan_export_xlsx
    from plans.services import part_assign

    plan = Plan.objects.get(area__slug="walsall")
    ccg = next(o for o in plan.partner_organisations if not o.is_local_authority)
    commissioner = get_user_model().objects.get(username="walsall-commissioner")
    book = load_workbook(BytesIO(plan_export_xlsx(plan=plan, user=commissioner)[0]))
    governance = next(c for c in book["Narrative"]["A"] if c.value == "Governance")
    book["Narrative"].cell(governance.row, 2).value = "A joint board."
    out = BytesIO()
    book.save(out)
    preview = import_preview(plan=plan, user=commissioner, data=out.getvalue())
    pending = import_pending(plan=plan, user=commissioner, preview=preview, file_name="w.xlsx")
    writes = {
        "assign": lambda: part_assign(
            part=plan.parts.get(key="vision"), assignee=commissioner, due_date=None, user=None
        ),
        "contribution": lambda: contribution_set(
            plan=plan, organisation=ccg, stream="carers", year="2015/16", amount=1, user=None
        ),
        "import": lambda: import_apply(pending=pending, user=commissioner),
    }
    for name, write in writes.items():
        with CaptureQueriesContext(connection) as captured:
            write()
        locks = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
        assert locks, name
        for sql in locks:
            assert "JOIN" not in sql or "FOR UPDATE OF" in sql, (name, sql)
        tables = [sql.split(" FROM ", 1)[1].split()[0] for sql in locks]
        if '"plans_plan"' in tables:  # the part alone (an assignment) waits for no plan
            assert tables.index('"plans_plan"') < tables.index('"plans_part"'), name


def test_contribution_set_changes_one_cell_as_a_new_version(demo):
    plan = Plan.objects.get(area__slug="walsall")
    ccg = next(o for o in plan.partner_organisations if not o.is_local_authority)
    before = plan.parts.get(key="contributions").version
    part = contribution_set(
        plan=plan,
        organisation=ccg,
        stream="carers",
        year="2015/16",
        amount=Decimal("1234.50"),
        user=None,
    )
    assert part.version == before + 1
    row = fund.Contribution.objects.get(
        plan=plan, organisation=ccg, stream="carers", year="2015/16"
    )
    assert row.amount == Decimal("1234.50")
    assert part.history.first().history_change_reason.startswith(ccg.name)
    contribution_set(
        plan=plan, organisation=ccg, stream="carers", year="2015/16", amount=None, user=None
    )
    assert not fund.Contribution.objects.filter(
        plan=plan, organisation=ccg, stream="carers", year="2015/16"
    ).exists()
    with pytest.raises(ValidationError):
        contribution_set(
            plan=plan,
            organisation=ccg,
            stream="carers",
            year="2015/16",
            amount=Decimal("-1"),
            user=None,
        )
    with pytest.raises(ValidationError):
        contribution_set(
            plan=plan,
            organisation=ccg,
            stream="carers",
            year="2019/20",
            amount=Decimal("1"),
            user=None,
        )
