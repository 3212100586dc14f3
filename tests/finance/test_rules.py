"""Money arithmetic in exact pennies, for any amounts (property-based)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.rules import (
    contributions_table,
    pooled_budget,
    risk_share_split,
    scheme_net_spend,
    spend_against_pool,
    spend_checks,
    variance_notice,
    working_days_after,
)

YEARS = ["2014/15", "2015/16"]
pennies = st.integers(min_value=0, max_value=100_000_000_000).map(lambda p: Decimal(p) / 100)
streams = st.sampled_from(["s256", "additional", "carers", "reablement", "capital", "nhs", "other"])


class Partner:
    def __init__(self, pk, name):
        self.pk, self.name = pk, name


@st.composite
def contributions(draw):
    entries = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "organisation": st.sampled_from([1, 2, 3]),
                    "stream": streams,
                    "year": st.sampled_from(YEARS),
                    "amount": pennies.map(str),
                }
            ),
            max_size=30,
        )
    )
    return {"amounts": entries}


@given(contributions())
def test_the_pooled_budget_is_exactly_the_sum_of_the_contributions(content):
    budget = pooled_budget(content, YEARS)
    for year in YEARS:
        expected = sum(
            (Decimal(e["amount"]) for e in content["amounts"] if e["year"] == year), Decimal(0)
        )
        assert budget[year] == expected


@given(contributions())
def test_row_sub_totals_and_the_grand_total_agree_to_the_penny(content):
    partners = [Partner(1, "Council"), Partner(2, "CCG A"), Partner(3, "CCG B")]
    table = contributions_table(content, partners, YEARS)
    for index, year in enumerate(YEARS):
        assert sum(s["subtotal"][index] for s in table["sections"]) == table["budget"][index]
        assert table["budget"][index] == pooled_budget(content, YEARS)[year]
    assert table["budget_total"] == sum(s["subtotal_total"] for s in table["sections"])


@given(
    pennies,
    st.dictionaries(
        st.integers(min_value=1, max_value=9),
        st.integers(min_value=0, max_value=10_000_000).map(Decimal),
        min_size=1,
        max_size=5,
    ).filter(lambda weights: sum(weights.values()) > 0),
)
def test_risk_shares_always_add_up_to_the_amount_to_the_penny(amount, weights):
    shares = risk_share_split(amount, weights)
    assert sum(shares.values()) == amount
    assert all(share >= 0 and share == share.quantize(Decimal("0.01")) for share in shares.values())
    total = sum(weights.values())
    for key, weight in weights.items():  # nobody is more than a penny from their exact share
        assert abs(shares[key] - amount * weight / total) < Decimal("0.01")


def test_a_75_25_split_of_an_overspend():
    shares = risk_share_split(Decimal("26742000"), {"ccg": Decimal(75), "council": Decimal(25)})
    assert shares == {"ccg": Decimal("20056500.00"), "council": Decimal("6685500.00")}


def test_income_lines_reduce_net_spend_and_the_balance_is_named():
    schemes = {
        "rows": [
            {"spend": {"2015/16": "448223000"}, "income": False},
            {"spend": {"2015/16": "0"}, "income": True},
        ]
    }
    contributions = {
        "amounts": [{"organisation": 1, "stream": "nhs", "year": "2015/16", "amount": "421481000"}]
    }
    assert scheme_net_spend(schemes, YEARS)["2015/16"] == Decimal("448223000")
    # Spend past the pool passes the template's rule (at least the allocation) and is explained.
    check = spend_checks(schemes, contributions, {"2015/16": Decimal("20000000")}, ["2015/16"])[0]
    assert check.passed
    assert "£448,223,000 is at least the ITF allocation of £20,000,000" in check.message
    pool = pooled_budget(contributions, ["2015/16"])["2015/16"]
    assert "£26,742,000 more than the pooled budget" in spend_against_pool(Decimal(448223000), pool)
    schemes["rows"][1]["spend"]["2015/16"] = "438223000"  # income brings net spend to £10m
    check = spend_checks(schemes, contributions, {"2015/16": Decimal("20000000")}, ["2015/16"])[0]
    assert not check.passed
    assert "£10,000,000 is £10,000,000 short of the ITF allocation" in check.message
    assert "not yet planned" in spend_against_pool(Decimal(10000000), pool)
    assert spend_against_pool(pool, pool) == "The schemes spend the whole pooled budget."


@given(contributions())
def test_money_from_a_partner_that_has_left_is_shown_so_the_totals_still_agree(content):
    partners = [Partner(1, "Council")]  # 2 and 3 have left the area
    table = contributions_table(content, partners, YEARS)
    for index in range(len(YEARS)):
        assert sum(s["subtotal"][index] for s in table["sections"]) == table["budget"][index]


def test_an_empty_year_does_not_pass_the_balance_check():
    check = spend_checks({}, {}, {}, ["2014/15"])[0]
    assert not check.passed
    assert "Nothing has been entered for 2014/15 yet" in check.message


@pytest.mark.parametrize(
    "start,days,due",
    [
        # Christmas, Boxing Day, a weekend and New Year's Day are not counted.
        (date(2014, 12, 22), 10, date(2015, 1, 8)),
        # Good Friday and Easter Monday 2015.
        (date(2015, 4, 1), 10, date(2015, 4, 17)),
        # Boxing Day 2015 fell on a Saturday: the bank holiday was Monday 28 December.
        (date(2015, 12, 24), 1, date(2015, 12, 29)),
        # Raised on a Saturday: the first working day is the Monday.
        (date(2014, 3, 29), 1, date(2014, 3, 31)),
        # An ordinary fortnight, and the late-May bank holiday.
        (date(2015, 5, 11), 10, date(2015, 5, 26)),
        (date(2015, 5, 20), 10, date(2015, 6, 4)),
    ],
)
def test_a_notice_is_due_ten_working_days_later_by_englands_bank_holidays(start, days, due):
    assert working_days_after(start, days) == due


def test_a_variance_at_the_materiality_threshold_needs_a_notice_and_one_below_does_not():
    arrangements = {"materiality_threshold": "500000.00", "notice_days": 10}
    monday = date(2015, 5, 11)
    assert variance_notice(Decimal("499999.99"), arrangements, monday) is None
    notice = variance_notice(Decimal("500000.00"), arrangements, monday)
    assert notice == {
        "threshold": Decimal("500000.00"),
        "days": 10,
        "raised": monday,
        "due": date(2015, 5, 26),
    }
    assert variance_notice(Decimal("-26742000"), arrangements, monday)["due"] == notice["due"]
    # The area's own figures, and the defaults (£500,000, 10 working days) when none is saved.
    own = variance_notice(
        Decimal("100000"), {"materiality_threshold": "50000", "notice_days": 3}, monday
    )
    assert own["due"] == date(2015, 5, 14)
    assert variance_notice(Decimal("600000"), {}, monday)["days"] == 10
    assert variance_notice(Decimal("400000"), {}, monday) is None
