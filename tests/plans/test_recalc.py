"""The workbook's live totals, recalculated by a real spreadsheet, are the portal's own figures.

openpyxl writes the SUM formulas without cached values, so only a spreadsheet program can say
what a reader will see: LibreOffice headless opens each export, recalculates it and saves it.
"""

import io
import re
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from openpyxl import load_workbook

from finance.rules import pooled_budget, scheme_net_spend
from governance.models import Export
from itf_portal.money import PENNY
from plans.constants import PartKey
from plans.exports.service import plan_export_xlsx
from plans.models import Area
from plans.services import plan_current_round, plan_open
from tests.libreoffice import recalculated

SLUGS = ["southampton", "walsall", "plymouth"]
# A column's total, or (for spend with income lines, marked Yes in a flag column) net of them.
# Each runs from the table's heading row to the row above the total, so inserted rows count.
SUM = re.compile(r"=SUM\(([A-Z]+)(\d+):INDEX\(\1:\1,ROW\(\)-1\)\)")
NET = re.compile(
    r'=SUMIF\(([A-Z]+\d+:INDEX\([A-Z]+:[A-Z]+,ROW\(\)-1\)),"<>Yes",'
    r"([A-Z]+)(\d+):INDEX\(\2:\2,ROW\(\)-1\)\)"
    r'-SUMIF\(\1,"Yes",\2\3:INDEX\(\2:\2,ROW\(\)-1\)\)'
)
# A sub-total by partner or lead commissioner: a SUMIF(S) of the table's rows, by column A.
SUBTOTAL = re.compile(r"=SUMIFS?\(\$[A-Z]+\$\d+:\$[A-Z]+\$\d+,")


def stored(rows, key: str, period: str) -> Decimal:
    return sum((Decimal((row.get(key) or {}).get(period) or "0") for row in rows), Decimal(0))


def portal_totals(snapshot: dict) -> dict[tuple[str, str], Decimal]:
    """The portal's figure for every total row cell, by sheet and column heading."""
    years = snapshot["round"]["years"]
    baseline, last = snapshot["round"].get("baseline"), years[-1]
    content = {key: part.get("content") or {} for key, part in snapshot["parts"].items()}
    schemes = content.get(PartKey.SCHEMES, {})
    spend_lines = content.get(PartKey.SPEND, {}).get("lines", {}).values()
    contingency = content.get(PartKey.CONTINGENCY, {}).get("rows", [])
    totals = {}
    for year, amount in pooled_budget(content.get(PartKey.CONTRIBUTIONS, {}), years).items():
        totals["Pooled fund contributions", year] = amount
    for year, amount in scheme_net_spend(schemes, years).items():
        totals["Pooled budget schemes", f"{year} spend"] = amount
        totals["Pooled budget schemes", f"{year} benefits"] = stored(
            schemes.get("rows", []), "benefits", year
        )
    for year in [baseline, *years] if baseline else years:
        for what in ("spend", "benefits"):
            totals["Health and care spend", f"{year} {what}"] = stored(spend_lines, what, year)
    for what, label in (("savings", "planned savings"), ("support", "maximum support needed")):
        for period, shown in ((last, last), ("ongoing", "Ongoing")):
            totals["Contingency plan", f"{shown} {label}"] = stored(contingency, what, period)
    return totals


def sheet_totals(original: Path, recalculated: Path) -> dict[tuple[str, str], tuple[str, object]]:
    """Every SUM cell of the exported workbook, by sheet and column heading: (cell, the value
    the spreadsheet worked out)."""
    values = load_workbook(recalculated, data_only=True)
    found = {}
    for ws in load_workbook(original).worksheets:
        for cell in (cell for row in ws.iter_rows() for cell in row):
            formula = isinstance(cell.value, str) and cell.value.startswith("=SUM")
            if formula and not SUBTOTAL.match(cell.value):
                total, net = SUM.fullmatch(cell.value), NET.fullmatch(cell.value)
                assert total or net, f"{ws.title}!{cell.coordinate}: unexpected total {cell.value}"
                header = int(total[2]) if total else int(net[3])
                heading = ws.cell(row=header, column=cell.column).value
                where = f"{ws.title}!{cell.coordinate} {cell.value}"
                found[ws.title, heading] = (where, values[ws.title][cell.coordinate].value)
    return found


def test_every_total_recalculated_by_libreoffice_is_the_portals_figure(db, tmp_path):
    call_command("load_demo", stdout=io.StringIO())
    exports = tmp_path / "exports"
    exports.mkdir()
    snapshots = {}
    for slug in SLUGS:
        plan = plan_open(area=Area.objects.get(slug=slug), round=plan_current_round())
        user = get_user_model().objects.get(username=f"{slug}-admin")
        data, _ = plan_export_xlsx(plan=plan, user=user)
        (exports / f"{slug}.xlsx").write_bytes(data)
        # What was written: the sealed version for a plan past Drafting, else the draft.
        snapshots[slug] = Export.objects.filter(plan=plan, format="xlsx").latest("pk").snapshot

    out = recalculated([exports / f"{slug}.xlsx" for slug in SLUGS], tmp_path)

    wrong = []
    for slug in SLUGS:
        expected = portal_totals(snapshots[slug])
        found = sheet_totals(exports / f"{slug}.xlsx", out / f"{slug}.xlsx")
        assert len(found) > 0, f"{slug}: the workbook has no total formulas to check"
        assert found.keys() == expected.keys(), f"{slug}: totals differ from the template's"
        for key, (where, value) in found.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or Decimal(value).quantize(PENNY) != expected[key].quantize(PENNY):
                wrong.append(f"{slug} {where} is {value!r}, the portal says {expected[key]}")
    assert wrong == [], "\n".join(wrong)


def test_a_row_inserted_just_above_a_total_is_counted_by_it(world, tmp_path):
    """A spreadsheet moves only the references below an inserted row; a total's range starts at
    the table's headings and ends at the row above the total, so it covers the new row."""
    from finance.services import part_save

    plan = plan_open(area=world.area, round=plan_current_round())
    ccg = plan.area.partners.get(kind="ccg")
    part = plan.parts.get(key="contributions")
    amounts = [{"organisation": ccg.pk, "stream": "nhs", "year": "2015/16", "amount": "1000.00"}]
    part_save(
        part=part,
        content={"amounts": amounts},
        status="in_progress",
        base_version=part.version,
        user=world.commissioner,
    )
    path = tmp_path / "plan.xlsx"
    path.write_bytes(plan_export_xlsx(plan=plan, user=None)[0])
    book = load_workbook(path)
    sheet = book["Pooled fund contributions"]
    total = next(c.row for c in sheet["A"] if c.value == "Total")
    sheet.insert_rows(total)  # a new line typed in just above the Total
    sheet.cell(total, 4).value = 250
    book.save(path)
    again = load_workbook(recalculated([path], tmp_path) / path.name, data_only=True)
    assert again["Pooled fund contributions"].cell(total + 1, 4).value == 1250


def _rows_under(ws, title: str) -> list[tuple]:
    """The rows of the block titled `title` in column A, below its heading row, to a blank."""
    start = next(c.row for c in ws["A"] if c.value == title) + 2
    rows = []
    for row in ws.iter_rows(min_row=start, values_only=True):
        if not row[0]:
            break
        rows.append(row)
    return rows


def test_the_sub_totals_and_the_money_checks_follow_the_workbooks_own_figures(db, tmp_path):
    """The contributions by partner, the schemes by lead commissioner and the Checklist's money
    checks are formulas: LibreOffice works out the portal's figures, and after an edit the
    edited ones."""
    from finance.services import allocations_load
    from governance.signoff import readiness_checks

    call_command("load_demo", stdout=io.StringIO())
    allocations_load(
        planning_round=plan_current_round(),
        text="area,year,minimum,performance_element\n"
        "plymouth,2014/15,1000000,0\nplymouth,2015/16,1000000,0\n",
    )
    plan = plan_open(area=Area.objects.get(slug="plymouth"), round=plan_current_round())
    path = tmp_path / "plymouth.xlsx"
    path.write_bytes(plan_export_xlsx(plan=plan, user=None)[0])
    snapshot = Export.objects.latest("pk").snapshot
    content = {key: part.get("content") or {} for key, part in snapshot["parts"].items()}
    years = snapshot["round"]["years"]
    names = {p["id"]: p["name"] for p in snapshot["partners"]}
    by_partner: dict = {}
    for entry in content[PartKey.CONTRIBUTIONS]["amounts"]:
        key = names[entry["organisation"]], entry["year"]
        by_partner[key] = by_partner.get(key, Decimal(0)) + Decimal(entry["amount"])
    by_lead: dict = {}
    for row in content[PartKey.SCHEMES]["rows"]:
        sign = -1 if row.get("income") else 1
        for year in years:
            key = names[row["lead_commissioner"]], year
            amount = Decimal((row.get("spend") or {}).get(year) or "0")
            by_lead[key] = by_lead.get(key, Decimal(0)) + sign * amount
    assert len({name for name, _ in by_lead}) >= 2, "Plymouth's schemes have two leads"

    book = load_workbook(recalculated([path], tmp_path) / path.name, data_only=True)
    partners = _rows_under(
        book["Pooled fund contributions"], "Contributions to the pooled fund: totals by partner"
    )
    assert {row[0] for row in partners} == {name for name, _ in by_partner}
    for row in partners:
        for number, year in enumerate(years, start=1):
            expected = by_partner.get((row[0], year), Decimal(0))
            assert Decimal(str(row[number])).quantize(PENNY) == expected
    schemes = book["Pooled budget schemes"]
    title = next(c.value for c in schemes["A"] if str(c.value).endswith("by lead commissioner"))
    leads = _rows_under(schemes, title)
    for row in leads:
        # Its columns: each year's spend (net of income) and benefits.
        for number, year in enumerate(years):
            expected = by_lead.get((row[0], year), Decimal(0))
            assert Decimal(str(row[1 + 2 * number])).quantize(PENNY) == expected

    checks = {check.name: check for check in readiness_checks(plan) if check.at_least}
    assert len(checks) == 2 * len(years)
    found = {row[0]: row[1:3] for row in book["Checklist"].iter_rows(min_row=5, values_only=True)}
    for name, check in checks.items():
        assert found[name][0] == ("Yes" if check.passed else "No"), name
        assert "against a minimum of £" in found[name][1]

    # The pool falls short once a person empties its last year's amounts in the workbook.
    edited = load_workbook(path)
    sheet = edited["Pooled fund contributions"]
    header = next(c.row for c in sheet["A"] if c.value == "Partner")
    total = next(c.row for c in sheet["A"] if c.value == "Total")
    for number in range(header + 1, total):
        sheet.cell(number, 2 + len(years)).value = 0
    edited.save(path)
    again = load_workbook(recalculated([path], tmp_path / "again") / path.name, data_only=True)
    found = {row[0]: row[1:3] for row in again["Checklist"].iter_rows(min_row=5, values_only=True)}
    assert checks[f"Pooled budget {years[-1]} reaches the minimum"].passed
    met, says = found[f"Pooled budget {years[-1]} reaches the minimum"]
    assert met == "No"
    assert says.startswith("£0.00 against a minimum of £") and says.endswith(" short.")
    partners = _rows_under(
        again["Pooled fund contributions"], "Contributions to the pooled fund: totals by partner"
    )
    assert {row[len(years)] for row in partners} == {0}
