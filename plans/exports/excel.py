"""The plan as the NHS England submission template, written with openpyxl from
`plans.exports.template`. Input cells are yellow and derived cells grey (the BCF convention);
totals are live SUM formulas; user text is always written as text, never as a formula."""

from datetime import date
from decimal import Decimal
from io import BytesIO

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.packaging.custom import IntProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation

from itf_portal.money import LIMIT
from plans.checks import is_total, total_of
from plans.exports.template import (
    AMOUNTS,
    CHECKLIST,
    DATE,
    EXPORT_PROPERTY,
    MONEY,
    NUMBER,
    TEXT,
    YES_NO,
    Heading,
    Subtotals,
    Table,
    Value,
    Words,
    answer_pieces,
    printable,
    sheets,
    value_of,
)

INPUT = PatternFill("solid", fgColor="FFF2CC")
DERIVED = PatternFill("solid", fgColor="D9D9D9")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
WORDS = Font(italic=True, color="425563")  # the template's question and guidance
GREEN = PatternFill("solid", fgColor="C6EFCE")
RED = PatternFill("solid", fgColor="FFC7CE")
MONEY_FORMAT = "£#,##0.00;(£#,##0.00)"

# Widths in spreadsheet units (about one digit each at the default 11 pt).
LABEL_WIDTH, ANSWER_WIDTH, TEXT_WIDTH, NARROWEST = 38, 22, 20, 11
KIND_WIDTHS = {MONEY: 17, NUMBER: 12, YES_NO: 9, DATE: 12}
ANSWER_TO = 6  # an answer is merged across columns B to F
PRINT_WIDTH = 200  # what A4 landscape holds at a scale of about 75 %, 8 pt from 11 pt
# Characters of wrapped text a unit of width holds, measured for the widest font a reader's
# spreadsheet may print with (LibreOffice without Calibri uses a wider sans): a row too tall
# wastes a little paper, one too short cuts its text.
CHARACTERS_PER_WIDTH = 1.0
BOLD_PER_WIDTH = 0.8  # of a bold label
PAGE_POINTS = 600  # about the height of rows a landscape page holds at its print scale
LINE_POINTS, MOST_POINTS = 15, 409  # a line of 11 pt text; the tallest row a sheet allows
MOST_LINES = (MOST_POINTS - 3) // LINE_POINTS  # of an answer in one row; a longer one spans rows
FIGURE_FORMAT = '"£#,##0.00"'  # an amount written into a sentence by a formula's TEXT()


def cell_put(ws, row: int, column: int, value, kind: str = "text", fill=INPUT):
    cell = ws.cell(row=row, column=column)
    if kind in (NUMBER, *AMOUNTS) and value not in ("", None):
        cell.value = Decimal(str(value))
        cell.number_format = MONEY_FORMAT if kind in AMOUNTS else "#,##0.00"
    elif kind == DATE and value:
        cell.value = date.fromisoformat(str(value))
        cell.number_format = "dd/mm/yyyy"
    else:
        cell.value = "" if value is None else printable(str(value))
        # Whatever a person typed stays text: "=HYPERLINK(…)" must never become a formula.
        cell.data_type = "s"
        cell.quotePrefix = True
    cell.fill = fill
    cell.alignment = WRAP
    return cell


def label_put(ws, row: int, column: int, text: str, font=BOLD):
    """A heading or label, which may hold a name (an organisation's, a partner's): text, never a
    formula, however it begins."""
    cell = ws.cell(row=row, column=column)
    cell.value = printable(str(text))
    cell.data_type = "s"
    cell.font = font
    cell.alignment = TOP  # level with its value, which wraps from the top of a tall row
    return cell


class _Validations:
    """One dropdown and one number bound per sheet, covering every cell that needs them."""

    def __init__(self, ws):
        self.yes_no = DataValidation(type="list", formula1='"Yes,No"', allow_blank=True)
        self.bounded = DataValidation(
            type="decimal", operator="between", formula1="0", formula2=str(LIMIT), allow_blank=True
        )
        self.bounded.error = f"Enter a number from 0 to {LIMIT:,}."
        self.ws = ws
        self.cells: dict = {YES_NO: [], MONEY: []}
        self.choices: dict = {}  # list's range -> cells

    def add(self, cell, kind: str) -> None:
        if kind in self.cells:
            self.cells[kind].append((cell.column_letter, cell.row))

    def add_choice(self, cell, source: str) -> None:
        self.choices.setdefault(source, []).append((cell.column_letter, cell.row))

    def finish(self) -> None:
        """Give each validation its cells as column ranges ("H6:H305"): adding cells one by one
        costs openpyxl time in the square of their number."""
        for kind, validation in ((YES_NO, self.yes_no), (MONEY, self.bounded)):
            if self.cells[kind]:
                validation.sqref = MultiCellRange(" ".join(_ranges(self.cells[kind])))
                self.ws.add_data_validation(validation)
        for source, cells in self.choices.items():
            validation = DataValidation(
                type="list", formula1=source, allow_blank=True, showErrorMessage=True
            )
            validation.error = "Choose from the list."
            validation.sqref = MultiCellRange(" ".join(_ranges(cells)))
            self.ws.add_data_validation(validation)


class _Lists:
    """The dropdowns' labels, each list once, in a hidden "Lists" sheet (a list written into the
    validation itself may not hold commas or pass 255 characters)."""

    def __init__(self, book):
        self.book = book
        self.ws = None
        self.ranges: dict = {}

    def source(self, labels: list[str]) -> str:
        key = tuple(labels)
        if key not in self.ranges:
            if self.ws is None:
                self.ws = self.book.create_sheet("Lists")
                self.ws.sheet_state = "hidden"
            column = len(self.ranges) + 1
            for row, label in enumerate(labels, start=1):
                cell_put(self.ws, row, column, label, fill=DERIVED)
            letter = get_column_letter(column)
            self.ranges[key] = f"Lists!${letter}$1:${letter}${max(len(labels), 1)}"
        return self.ranges[key]


def _ranges(cells: list[tuple[str, int]]) -> list[str]:
    """Cells as ranges of consecutive rows in each column."""
    ranges = []
    for letter, row in sorted(cells, key=lambda cell: (cell[0], cell[1])):
        if ranges and ranges[-1][0] == letter and ranges[-1][2] == row - 1:
            ranges[-1][2] = row
        else:
            ranges.append([letter, row, row])
    return [
        f"{letter}{first}" if first == last else f"{letter}{first}:{letter}{last}"
        for letter, first, last in ranges
    ]


def _table(
    ws,
    row: int,
    table: Table,
    snapshot: dict,
    validations: _Validations,
    lists: _Lists,
    anchors: dict,
    placed: dict,
) -> int:
    """Write the table from `row`; each amount column's total is kept in `anchors` by its
    measure, and the table's rows (from its heading row to its Total row) in `placed`."""
    label_put(ws, row, 1, table.title)
    row += 1
    for number, column in enumerate(table.columns, start=1):
        header = label_put(ws, row, number, column.header)
        header.fill, header.alignment = DERIVED, WRAP
    row += 1
    first = row
    # An empty table keeps one blank row to type into (a total would otherwise sum itself, a
    # circular reference that spreadsheets show as an error). The importer skips blank rows.
    for record in table.rows(snapshot) or [{}]:
        for number, column in enumerate(table.columns, start=1):
            fill = DERIVED if column.derived else INPUT
            cell = cell_put(ws, row, number, record.get(column.key, ""), column.kind, fill=fill)
            validations.add(cell, column.kind)
            if column.choices:
                validations.add_choice(cell, lists.source(column.choices(snapshot)))
        row += 1
    if table.total:
        ws.cell(row=row, column=1, value="Total").font = BOLD
        ws.cell(row=row, column=1).fill = DERIVED
        letters = {column.key: get_column_letter(n) for n, column in enumerate(table.columns, 1)}
        for number, column in enumerate(table.columns, start=1):
            if column.kind in AMOUNTS:
                letter = letters[column.key]
                cell = ws.cell(row=row, column=number)
                cell.value = _total(letter, first - 1, letters.get(column.negated_by))
                measure = total_of(table.part, column.field, column.period)
                anchors[measure] = f"'{ws.title}'!${letter}${row}"
                cell.number_format = MONEY_FORMAT
                cell.fill = DERIVED
                cell.font = BOLD
        placed[table.title] = (first - 1, row, letters)
        row += 1
    return row + 1


def _subtotals(ws, row: int, item: Subtotals, placed: dict) -> int:
    """The table's amounts by the values of one of its columns: a row per value the table's
    cells hold (as `Subtotals.values` lists them), each amount a SUMIF of the table's own rows,
    so it follows every edit (and a row inserted in the table)."""
    if item.table.title not in placed:
        return row
    header, total, letters = placed[item.table.title]
    label_put(ws, row, 1, item.title)
    row += 1
    amounts = item.amounts
    for number, header_text in enumerate([item.by.header, *(c.header for c in amounts)], 1):
        cell = label_put(ws, row, number, header_text)
        cell.fill, cell.alignment = DERIVED, WRAP
    row += 1

    def rows_of(letter: str) -> str:
        return f"${letter}${header}:${letter}${total}"

    letter = letters[item.table.subtotal_by]
    by = rows_of(letter)
    written = (ws[f"{letter}{number}"].value for number in range(header + 1, total))
    for value in [value for value in dict.fromkeys(str(v or "") for v in written) if value]:
        cell_put(ws, row, 1, value, fill=DERIVED)
        for number, column in enumerate(amounts, start=2):
            spend = rows_of(letters[column.key])
            if column.negated_by:  # net of the rows marked as income
                flag = rows_of(letters[column.negated_by])
                formula = (
                    f'=SUMIFS({spend},{by},$A{row},{flag},"<>Yes")'
                    f'-SUMIFS({spend},{by},$A{row},{flag},"Yes")'
                )
            else:
                formula = f"=SUMIF({by},$A{row},{spend})"
            cell = ws.cell(row=row, column=number, value=formula)
            cell.number_format, cell.fill = MONEY_FORMAT, DERIVED
        row += 1
    return row + 1


def _total(letter: str, header: int, flag: str | None) -> str:
    """A column's live total, from the table's heading row (text, which sums to nothing) to the
    row just above the total itself, so a row inserted anywhere in the table, first or last, is
    counted; where a Yes in the `flag` column marks income, net of it."""
    amounts = f"{letter}{header}:INDEX({letter}:{letter},ROW()-1)"
    if not flag:
        return f"=SUM({amounts})"
    flags = f"{flag}{header}:INDEX({flag}:{flag},ROW()-1)"
    return f'=SUMIF({flags},"<>Yes",{amounts})-SUMIF({flags},"Yes",{amounts})'


def plan_workbook(
    snapshot: dict,
    *,
    seal: str = "",
    checks: list | None = None,
    signoff: list | None = None,
    cover: list | None = None,
    export_id: int | None = None,
    mark: str = "",
) -> bytes:
    """The workbook for a plan snapshot; `seal` is printed on every sheet (or "Draft"), the
    readiness `checks` fill the Checklist; the `cover` lines (label, value, kind: the dates and
    each year's minimum and total) and the `signoff` rows fill the Cover.
    `export_id` is kept as a document property, so an edited copy can be imported against it.
    `mark` says on every sheet, and at the top of every printed page, what a version that is no
    longer the plan in force is ("Sealed version 1, reopened since — not the plan in force")."""
    book = Workbook()
    book.remove(book.active)
    lists = _Lists(book)
    if export_id is not None:
        book.custom_doc_props.append(IntProperty(name=EXPORT_PROPERTY, value=export_id))
    years = snapshot["round"]["years"]
    heading = f"{snapshot['area']['name']}: {snapshot['round']['name']}"
    area = snapshot["area"]["name"]
    anchors: dict = {}  # measure -> the cell that holds it (a column's total, a minimum)
    placed: dict = {}  # table title -> (heading row, Total row, column letters by key)
    # (cell, formula of the anchors): the Cover's totals and the Checklist's live checks, which
    # name cells of sheets written after them.
    waiting: list = []
    for sheet in sheets(years, snapshot["round"].get("baseline", "")):
        ws = book.create_sheet(sheet.name)
        ws.cell(row=1, column=1, value=sheet.name).font = TITLE
        cell_put(ws, 2, 1, heading, fill=DERIVED)
        cell_put(ws, 2, 2, f"Seal: {seal}" if seal else "Draft: not signed", fill=DERIVED)
        if mark:
            cell_put(ws, 2, 3, mark, fill=RED)
        ws.freeze_panes = "A3"
        widths = column_widths(sheet)
        for number, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(number)].width = width
        _print_setup(ws, area, seal, mark)
        validations = _Validations(ws)
        row = 4
        if sheet.name == "Cover":
            row = _cover(ws, row, snapshot, cover or [], signoff or [], anchors, waiting)
        if sheet.name == CHECKLIST:
            row = _checklist(ws, row, checks or [], waiting)
        headers: list[tuple[int, int]] = []  # (table's header row, its number of rows)
        for item in sheet.items:
            if isinstance(item, Heading):
                label_put(ws, row + 1, 1, item.text, TITLE)
                row += 2
            elif isinstance(item, Words):
                cell = label_put(ws, row, 1, item.text, WORDS)
                cell.alignment = WRAP
                ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ANSWER_TO)
                row += 1
            elif isinstance(item, Value):
                label_put(ws, row, 1, item.label).alignment = WRAP
                value, choices = value_of(snapshot, item), item.choices(snapshot)
                # Free text is as long as a person made it: as many rows as it needs (the reader
                # joins them again). A choice is one cell, with its dropdown.
                pieces = (
                    answer_rows(widths, value) if item.kind == TEXT and not choices else [value]
                )
                for number, piece in enumerate(pieces):
                    cell = cell_put(ws, row + number, 2, piece, item.kind)
                    if item.kind == TEXT:  # an answer has the width of the page to be read in
                        ws.merge_cells(
                            start_row=row + number,
                            start_column=2,
                            end_row=row + number,
                            end_column=ANSWER_TO,
                        )
                validations.add(cell, item.kind)
                if choices:
                    validations.add_choice(cell, lists.source(choices))
                row += len(pieces)
            elif isinstance(item, Subtotals):
                row = _subtotals(ws, row, item, placed)
            else:
                start = row + 2
                row = _table(ws, row + 1, item, snapshot, validations, lists, anchors, placed)
                headers.append((start, row - start))
        validations.finish()
        rows_fit(ws)
        # The longest table's headings print at the top of every page, if it runs over pages.
        header_row, length = max(headers, key=lambda h: h[1], default=(0, 0))
        tall = sum(
            ws.row_dimensions[n].height or LINE_POINTS
            for n in range(header_row, header_row + length)
        )
        if headers and tall > PAGE_POINTS:
            ws.print_title_rows = f"{header_row}:{header_row}"
    for cell, formula in waiting:
        if written := formula(anchors):
            cell.value = written
            cell.quotePrefix = False  # a formula, unlike anything a person typed
    if lists.ws is not None:  # last, after the template's own sheets
        book.move_sheet(lists.ws, offset=len(book.sheetnames) - 1 - book.index(lists.ws))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _cover(
    ws, row: int, snapshot: dict, cover: list, signoff: list, anchors: dict, waiting: list
) -> int:
    """The template's Cover: the partners, the dates, each year's minimum (whose cell the
    Checklist's live checks name) and total agreed value (a live formula of the contributions'
    total), then the sign-off block. Returns the next row."""
    partners = snapshot.get("partners", [])
    council = [p["name"] for p in partners if p["kind"] == "la"]
    ccgs = [p["name"] for p in partners if p["kind"] == "ccg"]
    for label, value in [
        ("Local Authority", ", ".join(council)),
        *(("Clinical Commissioning Group", name) for name in ccgs),
    ]:
        label_put(ws, row, 1, label)
        cell_put(ws, row, 2, value, fill=DERIVED)
        row += 1
    for line in cover:
        label_put(ws, row, 1, line.label).alignment = WRAP
        value = "" if line.value is None else line.value
        cell = cell_put(ws, row, 2, value, MONEY if line.kind == "money" else DATE, fill=DERIVED)
        if line.measure and is_total(line.measure):
            waiting.append((cell, lambda anchors, m=line.measure: _formula_of(anchors, m)))
        elif line.measure and line.value is not None:  # a minimum not yet set is no figure
            anchors[line.measure] = f"'{ws.title}'!$B${row}"
        row += 1
    row += 1
    ws.cell(row=row, column=1, value="Authorisation and Sign Off").font = BOLD
    row += 1
    for entry in signoff:
        label_put(ws, row, 1, f"{entry.on_behalf_of}: {entry.organisation}").alignment = WRAP
        row += 1
        for label, value in (
            (entry.by_label, entry.by),
            ("Position", entry.position),
            ("Date", entry.date),
        ):
            label_put(ws, row, 1, label, font=Font())
            cell_put(ws, row, 2, value, fill=DERIVED)
            row += 1
    return row


def _formula_of(anchors: dict, measure) -> str | None:
    return f"={anchors[measure]}" if measure in anchors else None


def _checklist(ws, row: int, checks: list, waiting: list) -> int:
    """The readiness checks: a green Yes or a red No per check, and what to do about it. A money
    check ("the pooled budget reaches the minimum") is a live formula of the workbook's own
    total and minimum, so it follows every edit; the others say what the portal found."""
    first = row
    for number, header in enumerate(["Check", "Met?", "What it says"], start=1):
        label_put(ws, row, number, header).fill = DERIVED
    row += 1
    for check in checks:
        label_put(ws, row, 1, check.name, font=Font()).alignment = WRAP
        met = cell_put(ws, row, 2, "Yes" if check.passed else "No", fill=DERIVED)
        says = cell_put(ws, row, 3, check.message, fill=DERIVED)
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=ANSWER_TO)
        if check.at_least:
            waiting.append((met, lambda anchors, c=check: _met(anchors, *c.at_least)))
            waiting.append((says, lambda anchors, c=check: _says(anchors, *c.at_least)))
        row += 1
    if checks:
        met = f"B{first + 1}:B{row - 1}"
        ws.conditional_formatting.add(
            met, CellIsRule(operator="equal", formula=['"Yes"'], fill=GREEN, font=Font(bold=True))
        )
        ws.conditional_formatting.add(
            met, CellIsRule(operator="equal", formula=['"No"'], fill=RED, font=Font(bold=True))
        )
    return row + 1


def _met(anchors: dict, amount, minimum) -> str | None:
    if amount not in anchors or minimum not in anchors:
        return None
    return f'=IF({anchors[amount]}>={anchors[minimum]},"Yes","No")'


def _says(anchors: dict, amount, minimum) -> str | None:
    if amount not in anchors or minimum not in anchors:
        return None
    have, need = anchors[amount], anchors[minimum]
    return (
        f'=TEXT({have},{FIGURE_FORMAT})&" against a minimum of "&TEXT({need},{FIGURE_FORMAT})'
        f'&IF({have}>={need},": met.",": "&TEXT({need}-{have},{FIGURE_FORMAT})&" short.")'
    )


def column_widths(sheet) -> list[float]:
    """Column widths that let every table be read and printed on A4 at a readable scale: each
    column as wide as what it holds needs, then text columns narrowed (they wrap) until the
    sheet fits `PRINT_WIDTH`, so a print is never shrunk below about 8 pt."""
    widths = [LABEL_WIDTH, *([ANSWER_WIDTH] * (ANSWER_TO - 1))]
    wrapping = set()
    for item in sheet.items:
        if isinstance(item, Table):
            for number, column in enumerate(item.columns):
                want = KIND_WIDTHS.get(column.kind, TEXT_WIDTH)
                if number >= len(widths):
                    widths.append(want)
                elif number:  # column A keeps its width for the labels
                    widths[number] = want if number not in wrapping else max(widths[number], want)
                if column.kind == TEXT:
                    wrapping.add(number)
                else:
                    wrapping.discard(number)
    while sum(widths) > PRINT_WIDTH and any(widths[n] > NARROWEST for n in wrapping):
        widest = max(wrapping, key=lambda n: widths[n])
        widths[widest] -= 1
    return widths


def _print_setup(ws, area: str, seal: str, mark: str = "") -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddHeader.left.text = printable(f"{area}: ITF plan")
    ws.oddHeader.right.text = "&A"
    if mark:
        ws.oddHeader.center.text = printable(mark)
    ws.oddFooter.left.text = f"Seal {seal[:12]}…" if seal else "DRAFT — not signed"
    ws.oddFooter.right.text = "Page &P of &N"


def answer_rows(widths: list[float], text) -> list[str]:
    """An answer cut into the pieces that each fit one answer row of a sheet of these column
    widths (an answer is merged across columns B to F)."""
    width = sum(widths[1:ANSWER_TO])
    return answer_pieces(str(text or ""), MOST_LINES, lambda piece: _lines(piece, width))


def _lines(text, width: float, per_width: float = CHARACTERS_PER_WIDTH) -> int:
    """The lines a text wraps to in a cell this wide, word by word as a spreadsheet wraps it
    (a word that does not fit the line's end starts the next line)."""
    if not isinstance(text, str) or not text:
        return 1
    per_line = max(int(width * per_width), 1)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split(" "):
            if used and used + 1 + len(word) > per_line:
                lines += 1
                used = 0
            used += (1 if used else 0) + len(word)
            while used > per_line:  # a word longer than a line breaks where the line ends
                lines += 1
                used -= per_line
    return lines


def rows_fit(ws) -> None:
    """Row heights that show every wrapped answer whole, on screen and in print: openpyxl does
    not measure text, and a spreadsheet keeps a written row at its default height."""
    spans = {
        (r.min_row, r.min_col): sum(
            ws.column_dimensions[get_column_letter(c)].width or 8.43
            for c in range(r.min_col, r.max_col + 1)
        )
        for r in ws.merged_cells.ranges
    }
    for cells in ws.iter_rows(min_row=3):
        lines = 1
        for cell in cells:
            if isinstance(cell.value, str) and cell.value and cell.data_type != "f":
                width = spans.get((cell.row, cell.column)) or (
                    ws.column_dimensions[cell.column_letter].width or 8.43
                )
                per_width = BOLD_PER_WIDTH if cell.font.b else CHARACTERS_PER_WIDTH
                lines = max(lines, _lines(cell.value, width, per_width))
        if lines > 1:
            ws.row_dimensions[cells[0].row].height = min(lines * LINE_POINTS + 3, MOST_POINTS)
