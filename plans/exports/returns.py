"""A quarterly return as a workbook, in the style of the plan's (`plans.exports.excel`): the
figures to fill in yellow, the plan's own in grey, totals, variances and the over-spend as live
formulas, and a Checklist of live checks; and the same workbook read back, filled in, as the
return's form would be posted (`finance.monitoring_forms.ReturnForm`), so that an import meets
every check a person typing meets, and a save made since the export is a conflict."""

from decimal import Decimal
from io import BytesIO

from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.packaging.custom import IntProperty, StringProperty
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from finance.monitoring_forms import actual_input, paid_input, scheme_input
from finance.returns import MetricLine, PaidLine, ReturnContent, SchemeLine
from itf_portal.money import LIMIT
from plans.exports.excel import (
    BOLD,
    DERIVED,
    GREEN,
    MONEY_FORMAT,
    RED,
    TITLE,
    WRAP,
    cell_put,
    label_put,
    rows_fit,
)
from plans.exports.template import MONEY, NUMBER, TEXT, printable
from plans.template import questions

RETURN = "Return"
CHECKLIST = "Checklist"
VERSION_PROPERTY = "itf_return_version"
RETURN_PROPERTY = "itf_return"  # which return: "plan 42, 2015-16-q2"
ASKED = {question.name: question.label for question in questions(SchemeLine)}
NOTE = questions(ReturnContent)[0].label
NET = "Net (spend less income)"  # the row under the schemes, where the reader stops
# The schemes' table: its columns, in order, and the kind of each.
SCHEME_COLUMNS = [
    ("No.", TEXT),
    ("Scheme", TEXT),
    ("Spend or income", TEXT),
    ("Planned", MONEY),
    (ASKED["spend_to_date"], MONEY),
    (ASKED["forecast"], MONEY),
    ("Counts as", MONEY),
    ("Variance", MONEY),
    (ASKED["progress"], TEXT),
]
WIDTHS = [7, 34, 11, 16, 16, 16, 16, 16, 40]
# The yellow cells, by column: what the workbook asks to be filled in, and reads back.
SPENT, FORECAST, PROGRESS = 5, 6, 9  # on a scheme's row
SCHEME_INPUTS = (("spend_to_date", SPENT), ("forecast", FORECAST), ("progress", PROGRESS))
PAID = 5  # on a partner's stream's row
ACTUAL = 6  # on a measure's row


def return_key(plan, quarter) -> str:
    """Which return a workbook is of, kept in it as a document property."""
    return f"plan {plan.pk}, {quarter.slug}"


class WorkbookProblem(ValueError):
    """The file cannot be read as this return's workbook; the message says why."""


def return_workbook(
    *, plan, quarter, figures: dict, version: int, threshold: Decimal, seal: str
) -> bytes:
    """The workbook of a quarter's return as it stands (`figures`: its figures against the
    submitted plan; `version`: the return's, kept so an edited copy is imported against it)."""
    book = Workbook()
    ws = book.active
    ws.title = RETURN
    book.custom_doc_props.append(IntProperty(name=VERSION_PROPERTY, value=version))
    book.custom_doc_props.append(
        StringProperty(name=RETURN_PROPERTY, value=return_key(plan, quarter))
    )
    for number, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(number)].width = width
    ws.cell(row=1, column=1, value=f"{quarter.name} return").font = TITLE
    cell_put(ws, 2, 1, f"{plan.area.name}: {plan.round.name}", fill=DERIVED)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=3)
    cell_put(ws, 2, 4, f"Plan as submitted, seal {seal[:12]}…", fill=DERIVED)
    ws.merge_cells(start_row=2, start_column=4, end_row=2, end_column=6)
    cell_put(ws, 2, 7, f"Return version {version}", fill=DERIVED)
    ws.freeze_panes = "A5"
    label_put(
        ws,
        3,
        1,
        "Fill in the yellow cells: amounts in pounds for the year so far and "
        "as forecast for the whole year. Grey cells are the plan's and worked out.",
        font=Font(italic=True, color="425563"),
    )
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=9)
    money = DataValidation(
        type="decimal", operator="between", formula1="0", formula2=str(LIMIT), allow_blank=True
    )
    money.error = f"Enter an amount in pounds from 0 to {LIMIT:,}."
    ws.add_data_validation(money)
    row = 4
    for number, (title, _) in enumerate(SCHEME_COLUMNS, start=1):
        label_put(ws, row, number, title).fill = DERIVED
        ws.cell(row=row, column=number).alignment = WRAP
    first = row + 1
    for line in figures["schemes"]:
        row += 1
        cell_put(ws, row, 1, str(line["position"] + 1), fill=DERIVED)
        cell_put(ws, row, 2, line["name"], fill=DERIVED)
        cell_put(ws, row, 3, "Income" if line["income"] else "Spend", fill=DERIVED)
        cell_put(ws, row, 4, line["planned"], MONEY, fill=DERIVED)
        money.add(cell_put(ws, row, SPENT, line["spend_to_date"], MONEY))
        money.add(cell_put(ws, row, FORECAST, line["forecast"], MONEY))
        # A scheme without a forecast counts at its plan; an income line against spend.
        _formula(ws, row, 7, f'=IF(F{row}="",D{row},F{row})')
        _formula(ws, row, 8, f'=IF(C{row}="Income",-1,1)*(G{row}-D{row})')
        cell_put(ws, row, PROGRESS, line["progress"], TEXT)
    last = row
    row += 1
    net = row
    label_put(ws, net, 2, NET)
    for column in (4, 5, 7):
        letter = get_column_letter(column)
        _formula(
            ws,
            net,
            column,
            f'=SUMIF($C${first}:$C${last},"Spend",{letter}{first}:{letter}{last})'
            f'-SUMIF($C${first}:$C${last},"Income",{letter}{first}:{letter}{last})'
            if last >= first
            else "=0",
        )
    # Each row's variance already counts an income line against spend: the net is their sum.
    _formula(ws, net, 8, f"=SUM(H{first}:H{last})" if last >= first else "=0")
    row += 2
    pool = row
    label_put(ws, pool, 2, "Pooled budget (the partners' contributions)")
    cell_put(ws, pool, 4, figures["pool"], MONEY, fill=DERIVED)
    over = row + 1
    label_put(
        ws, over, 2, "Forecast over-spend against the pooled budget (an under-spend is negative)"
    )
    _formula(ws, over, 4, f"=G{net}-D{pool}")
    threshold_row = row + 2
    label_put(ws, threshold_row, 2, "Materiality threshold (a year)")
    cell_put(ws, threshold_row, 4, threshold, MONEY, fill=DERIVED)
    row += 4
    label_put(ws, row, 1, questions(PaidLine)[0].label, TITLE)
    row += 1
    for number, title in enumerate(
        ["Partner and stream", "", "", "Planned", "Paid to date", "Still to come"], start=1
    ):
        label_put(ws, row, number, title).fill = DERIVED
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
    for line in figures["paid"]:
        row += 1
        cell_put(ws, row, 1, f"{line['name']}, {line['stream_label']}", fill=DERIVED)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        cell_put(ws, row, 4, line["planned"], MONEY, fill=DERIVED)
        money.add(cell_put(ws, row, PAID, line["paid"], MONEY))
        _formula(ws, row, 6, f"=D{row}-N(E{row})")
    row += 2
    label_put(ws, row, 1, "Outcome measures", TITLE)
    row += 1
    for number, title in enumerate(
        [
            "No.",
            "Measure",
            "Unit",
            "Baseline",
            f"Projected {figures['year']}",
            questions(MetricLine)[0].label,
        ],
        start=1,
    ):
        label_put(ws, row, number, title).fill = DERIVED
    for line in figures["metrics"]:
        row += 1
        cell_put(ws, row, 1, str(line["position"] + 1), fill=DERIVED)
        cell_put(ws, row, 2, line["name"], fill=DERIVED)
        cell_put(ws, row, 3, line["unit"], fill=DERIVED)
        cell_put(ws, row, 4, line["baseline"], NUMBER, fill=DERIVED)
        cell_put(ws, row, 5, line["projection"], NUMBER, fill=DERIVED)
        cell_put(ws, row, ACTUAL, line["actual"], NUMBER)
    row += 2
    label_put(ws, row, 1, NOTE, TITLE)
    row += 1
    cell_put(ws, row, 1, figures["note"], TEXT)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=9)
    note_row = row
    _checklist(book.create_sheet(CHECKLIST), first, last, over, threshold_row)
    for sheet in book.worksheets:
        titles = set()
        for row_cells in sheet.iter_rows():
            for cell in row_cells:
                # Everything wraps in its column but the headings, which run across the sheet.
                if cell.value is not None and cell.font == TITLE:
                    titles.add(cell.row)
                elif cell.value is not None:
                    cell.alignment = WRAP
        rows_fit(sheet)
        for number in titles:
            sheet.row_dimensions[number].height = 20
        _print_setup(sheet, plan.area.name, quarter.name)
    # The commentary's box keeps its room to write in.
    ws.row_dimensions[note_row].height = max(ws.row_dimensions[note_row].height or 0, 120)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _formula(ws, row: int, column: int, formula: str):
    cell = ws.cell(row=row, column=column, value=formula)
    cell.fill = DERIVED
    cell.number_format = MONEY_FORMAT
    return cell


def _checklist(ws, first: int, last: int, over: int, threshold: int) -> None:
    """Live checks of the Return sheet, which follow every edit."""
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 9
    ws.column_dimensions["C"].width = 70
    ws.cell(row=1, column=1, value=CHECKLIST).font = TITLE
    for number, header in enumerate(["Check", "Met?", "What it says"], start=1):
        label_put(ws, 3, number, header).fill = DERIVED
    rows = f"{first}:{last}" if last >= first else None
    sheet = f"'{RETURN}'!"
    checks = [
        (
            "Every scheme planned to spend in the year has a forecast",
            f'=IF(COUNTIFS({sheet}D{first}:D{last},"<>0",{sheet}F{first}:F{last},"")=0,"Yes","No")'
            if rows
            else '="Yes"',
            f'=IF(COUNTIFS({sheet}D{first}:D{last},"<>0",{sheet}F{first}:F{last},"")=0,'
            '"Every scheme planned to spend in the year has its forecast.",'
            f'COUNTIFS({sheet}D{first}:D{last},"<>0",{sheet}F{first}:F{last},"")'
            '&" of the schemes planned to spend have no forecast yet: each counts at its plan.")'
            if rows
            else '="There are no schemes."',
        ),
        (
            "No forecast outturn is below its spend to date",
            f'=IF(SUMPRODUCT(({sheet}F{first}:F{last}<>"")*({sheet}F{first}:F{last}'
            f'<{sheet}E{first}:E{last}))=0,"Yes","No")'
            if rows
            else '="Yes"',
            '="A forecast below its spend to date is refused when the return is imported."',
        ),
        (
            "The forecast over- or under-spend is within the materiality threshold",
            f'=IF(ABS({sheet}D{over})<{sheet}D{threshold},"Yes","No")',
            f'=IF(ABS({sheet}D{over})<{sheet}D{threshold},"Within the threshold: no notice is '
            f'needed.","At or beyond the threshold: a material change to the section 75 '
            f"agreement, of which every partner is told (once for the year, and again if the "
            f'forecast moves by the threshold).")',
        ),
    ]
    for number, (name, met, says) in enumerate(checks, start=4):
        label_put(ws, number, 1, name, font=Font()).alignment = WRAP
        ws.cell(row=number, column=2, value=met).fill = DERIVED
        ws.cell(row=number, column=3, value=says).fill = DERIVED
        ws.cell(row=number, column=3).alignment = WRAP
    ws.conditional_formatting.add(
        "B4:B6", CellIsRule(operator="equal", formula=['"Yes"'], fill=GREEN, font=BOLD)
    )
    ws.conditional_formatting.add(
        "B4:B6", CellIsRule(operator="equal", formula=['"No"'], fill=RED, font=BOLD)
    )


def _print_setup(ws, area: str, quarter: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.left.text = printable(f"{area}: {quarter} return")
    ws.oddHeader.right.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"


def _typed(value) -> str:
    """A cell's value as a person would have typed it into the return's form."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = Decimal(str(value))
    return str(value).strip()


def _version(value) -> int | None:
    """A whole-number document property, as Excel keeps it or LibreOffice (as 1.0) saves it."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def return_workbook_read(data: bytes, *, plan, quarter, figures: dict) -> tuple[dict, int]:
    """What an edited copy of the return's workbook posts to the return's form (its yellow
    cells, by the line they are on), and the version it was exported from. WorkbookProblem if
    it is not this return's workbook, or a line of it is missing."""
    try:
        # Read as a stream, and as typed: a formula typed where text goes is kept as its text.
        book = load_workbook(BytesIO(data), read_only=True)
        properties = {p.name: p.value for p in book.custom_doc_props.props}
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise WorkbookProblem("The file is not an Excel workbook (.xlsx).") from error
    if properties.get(RETURN_PROPERTY) != return_key(plan, quarter) or RETURN not in (
        book.sheetnames
    ):
        raise WorkbookProblem(
            f"This is not the workbook of the {quarter.name} return: download it from this page, "
            "fill it in and import it here."
        )
    version = _version(properties.get(VERSION_PROPERTY))
    if version is None or version < 0:
        raise WorkbookProblem("The workbook does not say which version of the return it is.")
    # A return's sheet has a row per line and a few more: never read further than that, however
    # many rows a file unpacks to.
    most = len(figures["schemes"]) + len(figures["paid"]) + len(figures["metrics"]) + 40
    rows: list[tuple] = []
    try:
        for found in book[RETURN].iter_rows(values_only=True):
            if len(rows) >= most:
                raise WorkbookProblem(
                    "The Return sheet has more rows than this return's workbook: download it "
                    "again from this page and fill it in."
                )
            rows.append((tuple(found) + (None,) * len(SCHEME_COLUMNS))[: len(SCHEME_COLUMNS)])
    except (ValueError, TypeError) as error:  # a cell's number no spreadsheet writes ("NaN")
        raise WorkbookProblem(
            f"Row {len(rows) + 1} of the Return sheet holds a value that is not a number a "
            "spreadsheet can hold: type it again."
        ) from error
    finally:
        book.close()
    posted: dict = {"base_version": str(version)}
    # The schemes' rows run from under their headings to the net row.
    by_number = {}
    for found in rows[4:]:
        if _typed(found[1]) == NET:
            break
        if found[0] is not None:
            by_number[_typed(found[0])] = found
    for line in figures["schemes"]:
        number = str(line["position"] + 1)
        found = by_number.get(number)
        if found is None or _typed(found[1]) != printable(line["name"]):
            raise WorkbookProblem(
                f"Scheme {number} ({line['name']}) is not where the workbook put it: the rows "
                "of the schemes must stay as they were exported."
            )
        position = line["position"]
        for question, column in SCHEME_INPUTS:
            posted[scheme_input(question, position)] = _typed(found[column - 1])
    paid = {f"{p['name']}, {p['stream_label']}": p for p in figures["paid"]}
    measures = {str(m["position"] + 1): m for m in figures["metrics"]}
    note_next = False
    seen_measures = False
    for found in rows[4:]:
        first = _typed(found[0])
        if note_next:
            posted["note"] = first
            note_next = False
        elif first == NOTE:
            note_next = True
        elif first == "Outcome measures":
            seen_measures = True
        elif first in paid:
            line = paid.pop(first)
            posted[paid_input(line["organisation"], line["stream"])] = _typed(found[PAID - 1])
        elif (
            seen_measures
            and first in measures
            and _typed(found[1]) == printable(measures[first]["name"])
        ):
            posted[actual_input(measures.pop(first)["position"])] = _typed(found[ACTUAL - 1])
    missing = [*paid, *(m["name"] for m in measures.values())]
    if missing or "note" not in posted:
        what = ", ".join(missing) if missing else "the commentary"
        raise WorkbookProblem(
            f"The workbook has no row for {what}: its rows must stay as they were exported."
        )
    return posted, version
