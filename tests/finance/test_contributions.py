from decimal import Decimal

import pytest
from django.urls import reverse

from finance.models import Allocation
from finance.rules import pooled_budget, scheme_net_spend
from governance.constants import Role
from plans.services import plan_current_round, plan_open
from tests.factories import member_make


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


@pytest.fixture
def finance_lead(world):
    return member_make(world.area, Role.FINANCE_LEAD, username="finance")


def url(plan, key="contributions", name="part"):
    return reverse(name, kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, "key": key})


def cell(plan, partner_kind: str, stream: str, year_index: int) -> str:
    partner = plan.area.partners.get(kind=partner_kind)
    return f"amount_{partner.pk}_{stream}_{year_index}"


def grid_post(plan, amounts: dict, status="in_progress", version=0) -> dict:
    return {"base_version": str(version), "status": status, "note": "", **amounts}


def test_a_finance_lead_enters_contributions_and_the_pooled_budget_is_their_sum(
    client, world, plan, finance_lead
):
    client.force_login(finance_lead)
    data = grid_post(
        plan,
        {
            cell(plan, "ccg", "s256", 1): "3,971,000",
            cell(plan, "ccg", "carers", 1): "£601,000",
            cell(plan, "la", "capital", 1): "1618000.5",
            cell(plan, "ccg", "reablement", 0): "1234.50",
        },
    )
    assert client.post(url(plan), data).status_code == 302
    content = plan.parts.get(key="contributions").content
    assert pooled_budget(content, plan.round.year_labels) == {
        "2014/15": Decimal("1234.50"),
        "2015/16": Decimal("6190000.50"),
    }
    page = client.get(url(plan)).content.decode()
    assert "£6,190,000.50" in page
    assert 'value="3,971,000.00"' in page


@pytest.mark.parametrize(
    "typed,message",
    [
        ("-5", "Enter an amount of 0 or more"),
        ("12.345", "Enter pounds and pence, with no more than 2 decimal places"),
        ("10000000001", "Enter an amount of £10,000,000,000 or less"),
        ("lots", "Enter an amount in pounds, like 1,234.50"),
    ],
)
def test_a_bad_amount_names_its_cell_and_nothing_is_saved(
    client, world, plan, finance_lead, typed, message
):
    client.force_login(finance_lead)
    data = grid_post(
        plan, {cell(plan, "ccg", "carers", 1): typed, cell(plan, "la", "s256", 0): "5"}
    )
    response = client.post(url(plan), data)
    assert response.status_code == 400
    ccg = plan.area.partners.get(kind="ccg").name
    assert f"{ccg}, Carers&#x27; breaks, 2015/16: {message}" in response.content.decode()
    assert plan.parts.get(key="contributions").version == 0


@pytest.mark.parametrize("role,status", [(Role.COMMISSIONER, 403), (Role.AREA_ADMIN, 302)])
def test_only_finance_leads_and_area_admins_edit_the_pooled_fund(client, world, plan, role, status):
    client.force_login(member_make(world.area, role))
    response = client.post(url(plan), grid_post(plan, {cell(plan, "la", "s256", 0): "5"}))
    assert response.status_code == status


def test_a_finance_lead_cannot_edit_the_narrative(client, world, plan, finance_lead):
    client.force_login(finance_lead)
    data = {"base_version": "0", "status": "in_progress", "text": "x"}
    assert client.post(url(plan, "vision"), data).status_code == 403


def test_the_plan_summary_shows_the_minimum_and_the_derived_total(
    client, world, plan, finance_lead
):
    Allocation.objects.create(
        area=world.area, round=plan.round, year=2015, minimum=Decimal("5000000")
    )
    client.force_login(finance_lead)
    client.post(url(plan), grid_post(plan, {cell(plan, "ccg", "nhs", 1): "4,000,000"}))
    page = client.get(url(plan, "summary")).content.decode()
    assert "Minimum required value of ITF pooled budget: 2015/16" in page
    assert "£5,000,000" in page
    assert "£4,000,000" in page
    assert "is £1,000,000 short of the minimum of £5,000,000" in page
    client.post(url(plan), grid_post(plan, {cell(plan, "ccg", "nhs", 1): "5,000,000"}, version=1))
    page = client.get(url(plan, "summary")).content.decode()
    assert "reaches the minimum of £5,000,000" in page


def test_history_names_each_changed_amount(client, world, plan, finance_lead):
    client.force_login(finance_lead)
    client.post(url(plan), grid_post(plan, {cell(plan, "ccg", "carers", 1): "600,000"}))
    client.post(url(plan), grid_post(plan, {cell(plan, "ccg", "carers", 1): "601,000"}, version=1))
    page = client.get(url(plan, name="part_history")).content.decode()
    assert "Carers&#x27; breaks, 2015/16" in page
    assert "<del>£600,000</del> → <ins>£601,000</ins>" in page


def test_the_demo_derives_southamptons_total_not_the_papers_misprint(db, settings):
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from plans.models import Part

    def total(slug, year):
        part = Part.objects.get(plan__area__slug=slug, key="contributions")
        return pooled_budget(part.content, ["2014/15", "2015/16"])[year]

    assert total("southampton", "2015/16") == Decimal("17285000")
    # The transfer already flows, and the additional £925k is "for 14/15".
    assert total("southampton", "2014/15") == Decimal("3971000") + Decimal("925000")
    assert (
        "£17,258k"
        in Part.objects.get(plan__area__slug="southampton", key="contributions").content["note"]
    )
    assert total("walsall", "2014/15") == Decimal("5124740") + Decimal("1140000")
    # "By 2015/16 the following sums will also be incorporated": the 2014/15 lines continue.
    assert total("walsall", "2015/16") == Decimal("21544740")
    assert total("rotherham", "2015/16") == Decimal("20000000")
    assert total("plymouth", "2015/16") == Decimal("421481000")
    arrangements = Part.objects.get(plan__area__slug="plymouth", key="arrangements").content
    assert sorted(arrangements["shares"].values()) == ["25", "75"]
    assert (arrangements["materiality_threshold"], arrangements["notice_days"]) == ("500000.00", 10)
    for part in Part.objects.all():
        assert "seed 0" not in str(part.content)  # no source references in board papers
    # Walsall's ten section 256 schemes, then one for each stream its paper names: net spend
    # reaches the minimum, which is the pool, in each year.
    walsall = Part.objects.get(plan__area__slug="walsall", key="schemes").content["rows"]
    assert len(walsall) == 15
    assert sum(Decimal(row["spend"]["2014/15"]) for row in walsall[:10]) == Decimal("5124740")
    spend = scheme_net_spend({"rows": walsall}, ["2014/15", "2015/16"])
    assert spend == {"2014/15": Decimal("6264740"), "2015/16": Decimal("21544740")}


def test_two_finance_leads_saving_the_grid_at_once_lose_nothing(client, world, plan, finance_lead):
    other = member_make(world.area, Role.FINANCE_LEAD)
    client.force_login(finance_lead)
    first = grid_post(plan, {cell(plan, "ccg", "carers", 1): "600,000"})
    second = grid_post(plan, {cell(plan, "la", "capital", 1): "1,618,000"})
    assert client.post(url(plan), first).status_code == 302
    client.force_login(other)
    response = client.post(url(plan), second)  # based on version 0 too
    assert response.status_code == 409
    page = response.content.decode()
    assert 'value="1,618,000"' in page  # their figure, kept in the form
    assert "£600,000" in page  # the colleague's figure, in the difference
    content = plan.parts.get(key="contributions").content
    assert pooled_budget(content, plan.round.year_labels)["2015/16"] == Decimal("600000")
