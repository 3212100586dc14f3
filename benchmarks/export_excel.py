"""The Excel export of a plan with 300 schemes against a raw openpyxl write of the same cells.

The app's figure is the whole `plan_export_xlsx` call: the snapshot and readiness reads, the
Export log row and the styled, validated workbook. The floor writes the same values into the same
cells of the same sheets with plain `ws.cell`, from the same snapshot, with no styling or
validation. Prints the median time of each and their ratio; `--profile` also prints where one
export spends its time.
"""

import cProfile
import pstats
import re
import sys
from datetime import date
from decimal import Decimal
from io import BytesIO
from zipfile import ZipFile

from common import median_seconds, throwaway_database  # sets Django up first
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from plans.checks import is_total, total_of
from plans.exports.excel import answer_rows, column_widths
from plans.exports.template import (
    AMOUNTS,
    DATE,
    MONEY,
    NUMBER,
    SHOWN_ONLY,
    TEXT,
    Heading,
    Subtotals,
    Value,
    Words,
    sheets,
    value_of,
)

ROUNDS = 15
SCHEMES = 300


def plain(value, kind: str):
    """The value the app's writer puts in a cell of this kind, without its styling."""
    if kind in (NUMBER, *AMOUNTS) and value not in ("", None):
        return Decimal(str(value))
    if kind == DATE and value:
        return date.fromisoformat(str(value))
    return "" if value is None else str(value)


def floor_workbook(snapshot: dict, *, seal: str, checks: list, signoff: list, cover: list) -> bytes:
    """The least an export must do: the same values in the same cells, nothing else."""
    book = Workbook()
    book.remove(book.active)
    round_ = snapshot["round"]
    heading = f"{snapshot['area']['name']}: {round_['name']}"
    anchors: dict = {}  # measure -> its cell, as the Cover's and the Checklist's formulas name it
    placed: dict = {}  # table title -> (heading row, Total row, column letters)
    waiting: list = []
    for sheet in sheets(round_["years"], round_.get("baseline", "")):
        ws = book.create_sheet(sheet.name)
        ws.cell(1, 1, sheet.name)
        ws.cell(2, 1, heading)
        ws.cell(2, 2, f"Seal: {seal}" if seal else "Draft: not signed")
        widths = column_widths(sheet)
        row = 4
        if sheet.name == "Cover":
            partners = snapshot.get("partners", [])
            council = ", ".join(p["name"] for p in partners if p["kind"] == "la")
            lines = [("Local Authority", council, "text", None)]
            lines += [
                ("Clinical Commissioning Group", p["name"], "text", None)
                for p in partners
                if p["kind"] == "ccg"
            ]
            for label, value, kind, measure in [*lines, *cover]:
                ws.cell(row, 1, label)
                ws.cell(row, 2, plain(value, MONEY if kind == "money" else kind))
                if measure and is_total(measure):
                    waiting.append((ws.cell(row, 2), f"={{{measure}}}", (measure,)))
                elif measure and value is not None:
                    anchors[measure] = f"'{ws.title}'!$B${row}"
                row += 1
            ws.cell(row + 1, 1, "Authorisation and Sign Off")
            row += 2
            for entry in signoff:
                ws.cell(row, 1, f"{entry.on_behalf_of}: {entry.organisation}")
                row += 1
                for label, value in (
                    (entry.by_label, entry.by),
                    ("Position", entry.position),
                    ("Date", entry.date),
                ):
                    ws.cell(row, 1, label)
                    ws.cell(row, 2, value)
                    row += 1
        if sheet.name == "Checklist":
            for number, header in enumerate(["Check", "Met?", "What it says"], start=1):
                ws.cell(row, number, header)
            row += 1
            for check in checks:
                ws.cell(row, 1, check.name)
                ws.cell(row, 2, "Yes" if check.passed else "No")
                ws.cell(row, 3, check.message)
                if check.at_least:
                    have, need = (f"{{{m}}}" for m in check.at_least)
                    waiting.append(
                        (ws.cell(row, 2), f'=IF({have}>={need},"Yes","No")', check.at_least)
                    )
                    money = '"£#,##0.00"'
                    says = (
                        f'=TEXT({have},{money})&" against a minimum of "&TEXT({need},{money})'
                        f'&IF({have}>={need},": met.",": "&TEXT({need}-{have},{money})&" short.")'
                    )
                    waiting.append((ws.cell(row, 3), says, check.at_least))
                row += 1
            row += 1
        for item in sheet.items:
            if isinstance(item, Heading):
                ws.cell(row + 1, 1, item.text)
                row += 2
                continue
            if isinstance(item, Words):
                ws.cell(row, 1, item.text)
                row += 1
                continue
            if isinstance(item, Value):
                ws.cell(row, 1, item.label)
                value = value_of(snapshot, item)
                free = item.kind == TEXT and not item.choices(snapshot)
                for piece in answer_rows(widths, value) if free else [value]:
                    ws.cell(row, 2, plain(piece, item.kind))
                    row += 1
                continue
            if isinstance(item, Subtotals):
                header, total, letters = placed[item.table.title]
                ws.cell(row, 1, item.title)
                ws.cell(row + 1, 1, item.by.header)
                for number, column in enumerate(item.amounts, start=2):
                    ws.cell(row + 1, number, column.header)
                row += 2
                by = letters[item.table.subtotal_by]
                for value in item.values(snapshot):
                    ws.cell(row, 1, value)
                    for number, column in enumerate(item.amounts, start=2):
                        spend, flag = letters[column.key], letters.get(column.negated_by)
                        amounts = f"${spend}${header}:${spend}${total}"
                        rows = f"${by}${header}:${by}${total}"
                        formula = f"=SUMIF({rows},$A{row},{amounts})"
                        if flag:
                            flags = f"${flag}${header}:${flag}${total}"
                            formula = (
                                f'=SUMIFS({amounts},{rows},$A{row},{flags},"<>Yes")'
                                f'-SUMIFS({amounts},{rows},$A{row},{flags},"Yes")'
                            )
                        ws.cell(row, number, formula)
                    row += 1
                row += 1
                continue
            row += 1
            ws.cell(row, 1, item.title)
            for number, column in enumerate(item.columns, start=1):
                ws.cell(row + 1, number, column.header)
            row += 2
            first = row
            # Like the app, an empty table keeps one blank row to type into.
            for record in item.rows(snapshot) or [{}]:
                for number, column in enumerate(item.columns, start=1):
                    ws.cell(row, number, plain(record.get(column.key, ""), column.kind))
                row += 1
            if item.total:
                ws.cell(row, 1, "Total")
                letters = {c.key: get_column_letter(n) for n, c in enumerate(item.columns, 1)}
                for number, column in enumerate(item.columns, start=1):
                    if column.kind in AMOUNTS:
                        letter, flag = letters[column.key], letters.get(column.negated_by)
                        amounts = f"{letter}{first - 1}:INDEX({letter}:{letter},ROW()-1)"
                        formula = f"=SUM({amounts})"
                        if flag:  # spend net of the income lines, as the app writes it
                            flags = f"{flag}{first - 1}:INDEX({flag}:{flag},ROW()-1)"
                            formula = (
                                f'=SUMIF({flags},"<>Yes",{amounts})-SUMIF({flags},"Yes",{amounts})'
                            )
                        ws.cell(row, number, formula)
                        measure = total_of(item.part, column.field, column.period)
                        anchors[measure] = f"'{ws.title}'!${letter}${row}"
                placed[item.title] = (first - 1, row, letters)
                row += 1
            row += 1
    for cell, formula, needs in waiting:
        if all(measure in anchors for measure in needs):
            for measure in needs:
                formula = formula.replace(f"{{{measure}}}", anchors[measure])
            cell.value = formula
    # The dropdowns' labels, each list once, in the order the app first needs them.
    lists: list = []
    for sheet in sheets(round_["years"], round_.get("baseline", "")):
        for item in sheet.items:
            if isinstance(item, SHOWN_ONLY):
                continue
            if isinstance(item, Value):
                if (labels := item.choices(snapshot)) and labels not in lists:
                    lists.append(labels)
                continue
            for column in item.columns:
                if column.choices and column.choices(snapshot) not in lists:
                    lists.append(column.choices(snapshot))
    if lists:
        ws = book.create_sheet("Lists")
        for number, labels in enumerate(lists, start=1):
            for row, label in enumerate(labels, start=1):
                ws.cell(row, number, label)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def cell_count(data: bytes) -> int:
    """Every cell written, empty or not: the <c> elements of every sheet."""
    with ZipFile(BytesIO(data)) as package:
        return sum(
            len(re.findall(rb"<c[ >]", package.read(name)))
            for name in package.namelist()
            if name.startswith("xl/worksheets/sheet")
        )


def cells(data: bytes) -> dict:
    book = load_workbook(BytesIO(data))
    return {
        (ws.title, cell.coordinate): cell.value
        for ws in book.worksheets
        for line in ws.iter_rows()
        for cell in line
        if cell.value not in (None, "")
    }


def scheme_rows(plan, years: list[str]) -> list[dict]:
    """300 schemes with every field filled, as the schemes form saves them."""
    from plans.constants import FundingStream, SchemeType

    partners = list(plan.partner_organisations)
    types, streams = list(SchemeType), list(FundingStream)
    rows = []
    for i in range(SCHEMES):
        lead = partners[i % len(partners)]
        scheme_type = types[i % len(types)]
        rows.append(
            {
                "name": f"Scheme {i + 1}: community support for older people",
                "scheme_type": scheme_type.value,
                "scheme_type_other": "Housing support" if scheme_type == SchemeType.OTHER else "",
                "lead_commissioner": lead.pk,
                "lead_commissioner_name": lead.name,
                "provider": f"Provider {i % 17 + 1} NHS Trust",
                "stream": streams[i % len(streams)].value,
                "outcomes": "Fewer emergency admissions; more people at home 91 days after "
                "discharge; fewer delayed transfers of care.",
                "income": i % 25 == 0,
                "spend": {year: f"{1000 + i}23.00" for year in years},
                "benefits": {year: f"{i}50.00" for year in years},
            }
        )
    return rows


def plan_with_schemes():
    from finance.services import part_save
    from governance.constants import Role
    from plans.services import plan_current_round, plan_open
    from tests.factories import area_make, member_make, plan_make_ready

    area = area_make("Bench", ccg_count=3)
    plan = plan_open(area=area, round=plan_current_round())
    author = member_make(area, Role.COMMISSIONER)
    plan_make_ready(plan, author)
    part = plan.parts.get(key="schemes")
    part_save(
        part=part,
        content={"rows": scheme_rows(plan, plan.round.year_labels)},
        status="complete",
        base_version=part.version,
        user=author,
    )
    return plan, member_make(area, Role.REVIEWER)


def main():
    from finance.services import plan_snapshot_now
    from governance.signoff import readiness_checks
    from plans.exports.excel import plan_workbook
    from plans.exports.service import cover_lines, plan_export_xlsx, signoff_rows

    with throwaway_database():
        plan, user = plan_with_schemes()
        snapshot = plan_snapshot_now(plan, 0)
        inputs = {
            "seal": "",
            "checks": readiness_checks(plan),
            "signoff": signoff_rows(plan, None),
            "cover": cover_lines(plan, snapshot),
        }
        app_book, _ = plan_export_xlsx(plan=plan, user=user)
        floor_book = floor_workbook(snapshot, **inputs)
        # Same sheets, same values in the same cells (the app also says which export it was).
        assert (
            load_workbook(BytesIO(app_book)).sheetnames
            == load_workbook(BytesIO(floor_book)).sheetnames
        )
        assert cells(app_book) == cells(floor_book), "the floor must write the app's cells"
        assert cell_count(app_book) == cell_count(floor_book), "and as many of them"

        app = median_seconds(
            lambda: plan_export_xlsx(plan=plan, user=user), rounds=ROUNDS, warmup=2
        )
        writer = median_seconds(
            lambda: plan_workbook(snapshot, **inputs, export_id=1), rounds=ROUNDS, warmup=2
        )
        floor = median_seconds(lambda: floor_workbook(snapshot, **inputs), rounds=ROUNDS, warmup=2)
        print(
            f"Excel export, {SCHEMES} schemes ({cell_count(app_book)} cells, "
            f"{len(app_book) // 1024} KiB): app {app * 1000:.0f} ms "
            f"(of which plan_workbook {writer * 1000:.0f} ms), floor {floor * 1000:.0f} ms"
        )
        print(f"ratio app/floor: {app / floor:.2f}")
        if "--profile" in sys.argv:
            profile = cProfile.Profile()
            profile.runcall(plan_export_xlsx, plan=plan, user=user)
            pstats.Stats(profile).sort_stats("tottime").print_stats(8)


if __name__ == "__main__":
    main()
