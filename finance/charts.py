"""Bar charts drawn on the server as SVG, with the same figures in a table beside them, so they
read the same in the browser, to a screen reader and in a PDF."""

import textwrap
from decimal import Decimal

from itf_portal.money import money_format

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 300
BAR_WIDTH = 360
MOST_BARS = 25
LABEL_CHARACTERS = 36  # what one line of the label column holds at the chart's type size
LINE_HEIGHT = 16


def bar_chart(title: str, items: list[tuple[str, Decimal]], *, in_order: bool = False) -> dict:
    """Geometry for a horizontal bar chart of non-negative amounts, largest first (or in the
    order given, for figures that follow one another); beyond 25 bars the rest are added
    together as "All others"."""
    items = [(label, amount) for label, amount in items if amount]
    if not in_order:
        items.sort(key=lambda i: -i[1])
    if len(items) > MOST_BARS:
        rest = sum((amount for _, amount in items[MOST_BARS - 1 :]), Decimal(0))
        items = [*items[: MOST_BARS - 1], (f"All others ({len(items) - MOST_BARS + 1})", rest)]
    largest = max((amount for _, amount in items), default=Decimal(0))
    bars = []
    y = 0
    for label, amount in items:
        width = float(amount / largest * BAR_WIDTH) if largest > 0 and amount > 0 else 0.0
        lines = _label_lines(label)
        # The bar sits beside the label's first line; a second line takes the room beneath it.
        bars.append(
            {
                "lines": [
                    {"text": text, "y": y + BAR_HEIGHT * 0.7 + n * LINE_HEIGHT}
                    for n, text in enumerate(lines)
                ],
                "full_label": label,
                "amount": amount,
                "shown": money_format(amount),
                "y": y,
                "text_y": y + BAR_HEIGHT * 0.7,
                "width": round(width, 1),
                "value_x": LABEL_WIDTH + round(width, 1) + 6,
            }
        )
        y += BAR_HEIGHT + GAP + LINE_HEIGHT * (len(lines) - 1)
    return {
        "title": title,
        "bars": bars,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "width": LABEL_WIDTH + BAR_WIDTH + 140,
        "height": max(y, BAR_HEIGHT + GAP),
    }


def _label_lines(label: str) -> list[str]:
    """A label on at most two lines that fit the label column; past that it is shortened with
    "…" (the whole label is in the table beneath the chart)."""
    lines = textwrap.wrap(label, LABEL_CHARACTERS) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), LABEL_CHARACTERS, placeholder="…")]
    return [
        line if len(line) <= LABEL_CHARACTERS else line[: LABEL_CHARACTERS - 1] + "…"
        for line in lines
    ]
