from decimal import Decimal

import pytest

from itf_portal.money import MoneyError, money_format, money_parse


@pytest.mark.parametrize(
    "text,amount",
    [
        ("1234.5", Decimal("1234.50")),
        ("1,234.50", Decimal("1234.50")),
        ("£1,234", Decimal("1234.00")),
        ("  £3,971,000 ", Decimal("3971000.00")),
        ("0", Decimal("0.00")),
        ("1000000000", Decimal("1000000000.00")),
        ("1,100,000,000", Decimal("1100000000.00")),  # a large CCG's real health spend
        ("10000000000", Decimal("10000000000.00")),
        ("", None),
    ],
)
def test_amounts_people_type_are_read_as_pounds(text, amount):
    assert money_parse(text) == amount


@pytest.mark.parametrize(
    "text,message",
    [
        ("-5", "0 or more"),
        ("12.345", "no more than 2 decimal places"),
        ("10000000000.01", "£10,000,000,000 or less"),
        ("twelve", "like 1,234.50"),
        ("1,23,4", "like 1,234.50"),
        ("1e5", "like 1,234.50"),
        ("NaN", "like 1,234.50"),
        ("=SUM(A1)", "like 1,234.50"),
        ("1" * 40, "£10,000,000,000 or less"),
        ("0." + "1" * 40, "no more than 2 decimal places"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text, message):
    with pytest.raises(MoneyError, match=message.replace("(", r"\(")):
        money_parse(text)


def test_amounts_are_shown_rounded_with_reductions_in_brackets():
    assert money_format(Decimal("17285000.00")) == "£17,285,000"
    assert money_format(Decimal("1234.50")) == "£1,234.50"
    assert money_format(Decimal("500"), brackets=True) == "(£500)"
    assert money_format(Decimal("-26742000")) == "(£26,742,000)"
