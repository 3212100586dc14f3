"""Bar charts drawn on the server as SVG, with the same figures in a table beside them, so they
read the same in the browser, to a screen reader and in a PDF."""

from decimal import Decimal

from itf_portal.money import money_format

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 300
BAR_WIDTH = 360
MOST_BARS = 25


def bar_chart(title: str, items: list[tuple[str, Decimal]]) -> dict:
    """Geometry for a horizontal bar chart of non-negative amounts, largest first; beyond 25 bars
    the rest are added together as "All others"."""
    items = sorted(((label, amount) for label, amount in items if amount), key=lambda i: -i[1])
    if len(items) > MOST_BARS:
        rest = sum((amount for _, amount in items[MOST_BARS - 1 :]), Decimal(0))
        items = [*items[: MOST_BARS - 1], (f"All others ({len(items) - MOST_BARS + 1})", rest)]
    largest = max((amount for _, amount in items), default=Decimal(0))
    bars = []
    for index, (label, amount) in enumerate(items):
        width = float(amount / largest * BAR_WIDTH) if largest > 0 and amount > 0 else 0.0
        bars.append(
            {
                "label": label if len(label) <= 45 else label[:44] + "…",
                "full_label": label,
                "amount": amount,
                "shown": money_format(amount),
                "y": index * (BAR_HEIGHT + GAP),
                "text_y": index * (BAR_HEIGHT + GAP) + BAR_HEIGHT * 0.7,
                "width": round(width, 1),
                "value_x": LABEL_WIDTH + round(width, 1) + 6,
            }
        )
    return {
        "title": title,
        "bars": bars,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "width": LABEL_WIDTH + BAR_WIDTH + 140,
        "height": max(len(bars), 1) * (BAR_HEIGHT + GAP),
    }
