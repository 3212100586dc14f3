"""The national composite for 151 areas against openpyxl writing the same rows, and its memory
as the areas treble.

The app's figure is `national_workbook`: a batch of areas at a time read from the database, each
row worked out by the finance rules and written in write-only mode with its formats, then a line
per partner contribution on its own sheet and a totals row. The floor writes the same values
(the areas' rows and the contribution lines), worked out beforehand, with a bare write-only
openpyxl workbook. Then the app's peak
memory (tracemalloc) for 151 areas is compared with its peak for 453: write-only mode and batched
reads should keep it nearly flat.
"""

import statistics
import time
import tracemalloc
from io import BytesIO

from common import throwaway_database  # sets Django up first
from openpyxl import Workbook

ROUNDS = 7
AREAS = 151


def floor_workbook(header: list, rows: list[list], extra: dict | None = None) -> bytes:
    """The same rows with a bare write-only workbook; `extra` is any further sheets' rows, by
    sheet name (the app's partner contributions and local measures)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Areas")
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    for name, lines in (extra or {}).items():
        more = book.create_sheet(name)
        for values in lines:
            more.append(values)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def peak_memory(build) -> int:
    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main():
    from plans.exports.national import area_figures, headers, national_workbook, row
    from plans.models import Area
    from plans.services import plan_current_round
    from tests.factories import synthetic_areas

    with throwaway_database():
        planning_round = plan_current_round()
        synthetic_areas(AREAS, planning_round)
        years = planning_round.year_labels
        areas = list(Area.objects.order_by("name"))
        figures = list(area_figures(areas, planning_round))
        rows = [row(f, years) for f in figures]
        extra = {
            "Contributions": [
                [f.area.name, partner, kind, stream, year, amount]
                for f in figures
                for partner, kind, stream, year, amount in f.contributions
            ]
        }
        national_workbook(planning_round)  # warm up
        app, floor = [], []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            national_workbook(planning_round)
            app.append(time.perf_counter() - start)
            start = time.perf_counter()
            floor_workbook(headers(years), rows, extra)
            floor.append(time.perf_counter() - start)
        app_ms, floor_ms = statistics.median(app) * 1000, statistics.median(floor) * 1000
        print(
            f"National composite, {AREAS} areas ({len(headers(years))} columns): "
            f"app {app_ms:.0f} ms, floor {floor_ms:.0f} ms"
        )
        print(f"ratio app/floor: {app_ms / floor_ms:.2f}")
        small = peak_memory(lambda: national_workbook(planning_round))
        synthetic_areas(AREAS, planning_round, prefix="More")
        synthetic_areas(AREAS, planning_round, prefix="Most")
        large = peak_memory(lambda: national_workbook(planning_round))
        total = Area.objects.count()
        print(
            f"Peak memory: {small / 1024:.0f} KiB for {AREAS} areas, {large / 1024:.0f} KiB for "
            f"{total} areas (ratio {large / small:.2f} for {total / AREAS:.1f}× the areas)"
        )


if __name__ == "__main__":
    main()
