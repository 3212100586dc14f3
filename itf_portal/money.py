"""Money is Decimal pounds with two places; it is rounded only for display."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# The bound on any one amount: above any real line of an area's pool (a large CCG's health
# spend passes £1bn), low enough to catch a slip of the keyboard.
LIMIT = Decimal("10000000000")
PENNY = Decimal("0.01")

_ALLOWED = re.compile(r"^£?\s*-?\d{1,3}(,\d{3})*(\.\d+)?$|^£?\s*-?\d+(\.\d+)?$")


class MoneyError(ValueError):
    pass


def money_parse(text: str) -> Decimal | None:
    """Parse "1234.5", "1,234.50" or "£1,234" as pounds; "" is None. Refuses anything else,
    more than two decimal places, negatives and amounts over `LIMIT`."""
    text = (text or "").strip()
    if not text:
        return None
    if not _ALLOWED.match(text):
        raise MoneyError("Enter an amount in pounds, like 1,234.50")
    try:
        amount = Decimal(text.replace("£", "").replace(",", "").strip())
    except InvalidOperation as error:
        raise MoneyError("Enter an amount in pounds, like 1,234.50") from error
    if amount < 0:
        raise MoneyError("Enter an amount of 0 or more")
    # The limit and the decimal places are checked before any rounding, which would fail on a
    # number with dozens of digits.
    if amount > LIMIT:
        raise MoneyError(f"Enter an amount of £{LIMIT:,} or less")
    # Only digits pass the pattern, so the exponent is an int (never NaN's "n" or Infinity's "F").
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(PENNY):
        raise MoneyError("Enter pounds and pence, with no more than 2 decimal places")
    return amount.quantize(PENNY)


def money_stored(value) -> Decimal | None:
    """An amount as content stores it (a string of pounds, or "" / None for none)."""
    return None if value in ("", None) else Decimal(value)


def money_format(amount: Decimal | None, *, brackets: bool = False) -> str:
    """£1,234,567 for whole pounds, £1,234.50 otherwise; (£500) for a reduction."""
    if amount is None:
        return ""
    rounded = amount.quantize(PENNY, rounding=ROUND_HALF_UP)
    text = f"£{abs(rounded):,.0f}" if rounded == rounded.to_integral() else f"£{abs(rounded):,.2f}"
    if rounded < 0 or brackets:
        return f"({text})"
    return text
