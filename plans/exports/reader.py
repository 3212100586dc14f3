"""Reading a completed workbook back by `plans.exports.template`: first the file's safety checks
(size, zip bomb, XML entities), then every labelled value and table, each cell typed and checked.

Nothing here touches the database; `plans.exports.importer` decides what the cells change.
"""

import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from itf_portal.uploads import UPLOAD_LIMIT
from plans.exports.template import (
    EXPORT_PROPERTY,
    SHOWN_ONLY,
    TEXT,
    CellProblem,
    Heading,
    Table,
    Value,
    Words,
    answer_joined,
    normal,
    sheets,
)

MAX_BYTES = UPLOAD_LIMIT
MAX_UNPACKED = 8 * 1024 * 1024  # a real plan's workbook unpacks to well under 1 MB
MAX_RATIO = 200  # XML packs 10 to 30 times; a bomb packs thousands of times
MAX_ENTRIES = 500
MAX_ROWS = 5000
MAX_COLUMNS = 40
MAX_ROW_CELLS = 200  # cells in one row of a sheet
MAX_SHEET_CELLS = 100_000

NOT_XLSX = (
    "This file is not an Excel workbook (.xlsx). In Excel or LibreOffice, save it as "
    "“Excel Workbook (.xlsx)” and upload it again."
)


PROTECTED = (
    "This file is password-protected or in the old Excel format (.xls). Remove the password, "
    "save it as “Excel Workbook (.xlsx)” and upload it again."
)
DAMAGED = "This workbook is damaged and cannot be read. Save it again and upload it again."


class WorkbookRefused(Exception):
    """The file cannot be imported; `messages` say why, naming the sheet and cell where one is
    at fault."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class TableRow:
    values: dict  # column key -> normal value
    cells: dict  # column key -> "Sheet!B7"


@dataclass
class WorkbookCells:
    export_id: int | None
    heading: str
    values: dict = field(default_factory=dict)  # (sheet, label) -> (normal value, "Sheet!B5")
    tables: dict = field(default_factory=dict)  # (sheet, title) -> [TableRow]
    # Cells that cannot go into the plan, by the part they belong to: that part is not read,
    # the others still are.
    problems: dict = field(default_factory=dict)  # part key -> ["Sheet, cell B5: …"]


def _unpacked_check(data: bytes) -> None:
    """Refuse a zip bomb before any XML is parsed: too many entries, too large unpacked, packed
    too tightly, or a sheet with more cells (or a row with more cells) than a plan could have.
    Every entry is unpacked here with a running count, so an entry that lies about its size is
    caught too, and a damaged archive is refused rather than half-read."""
    if data[:4] == b"\xd0\xcf\x11\xe0":  # an OLE container: a password-protected or .xls file
        raise WorkbookRefused([PROTECTED])
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except Exception:  # zipfile raises several kinds on a file that is not a zip
        raise WorkbookRefused([NOT_XLSX]) from None
    with archive:
        entries = archive.infolist()
        names = {entry.filename for entry in entries}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise WorkbookRefused([NOT_XLSX])
        if len(entries) > MAX_ENTRIES:
            raise WorkbookRefused(["This workbook has too many parts inside it to be a plan."])
        total = 0
        for entry in entries:
            declared = entry.file_size
            if declared > 1024 * 1024 and declared > MAX_RATIO * max(entry.compress_size, 1):
                raise WorkbookRefused([_bomb(entry.filename)])
            sheet = entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml")
            cells = _CellCount(entry.filename) if sheet else None
            try:
                with archive.open(entry) as stream:
                    seen = 0
                    while chunk := stream.read(64 * 1024):
                        seen += len(chunk)
                        total += len(chunk)
                        if seen > max(declared, 1) or total > MAX_UNPACKED:
                            raise WorkbookRefused([_bomb(entry.filename)])
                        if cells:
                            cells.feed(chunk)
            except WorkbookRefused:
                raise
            except Exception:  # zlib, zipfile and seek errors all mean a damaged file
                raise WorkbookRefused([DAMAGED]) from None


class _CellCount:
    """Counts a sheet's cells, and each row's, as its XML streams past (openpyxl builds a whole
    row before it can be cut to the columns we read, so one enormous row costs gigabytes)."""

    TOKENS = re.compile(rb"<row[\s>]|<c[\s>/]")

    def __init__(self, name: str):
        self.name = name
        self.cells = 0
        self.in_row = 0
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        text = self.tail + chunk
        end = 0
        for token in self.TOKENS.finditer(text):
            end = token.end()
            if token.group().startswith(b"<row"):
                self.in_row = 0
                continue
            self.cells += 1
            self.in_row += 1
            if self.in_row > MAX_ROW_CELLS or self.cells > MAX_SHEET_CELLS:
                raise WorkbookRefused([_bomb(self.name)])
        # A token cut at the chunk's end (at most 4 of its bytes) is counted with the next one.
        self.tail = text[max(end, len(text) - 4) :]


def _bomb(name: str) -> str:
    return (
        f"This file unpacks to far more than a plan's workbook could (at “{name}”), so it was "
        "not opened."
    )


class Uncalculated:
    """A formula whose result the file does not hold (it was never opened in a spreadsheet)."""


UNCALCULATED = Uncalculated()
NO_RESULT = (
    "this cell holds a formula with no saved result. Open the workbook in Excel or LibreOffice "
    "and save it, or type the value in."
)


def _shown(cell, formula):
    """A cell's value as the spreadsheet shows it: a formula's saved result (UNCALCULATED when
    there is none), and a percentage as the number a person typed ("12%" is 12, not 0.12)."""
    value = cell.value
    if value is None and isinstance(formula, str) and formula.startswith("="):
        return UNCALCULATED
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and "%" in (getattr(cell, "number_format", None) or "")
    ):
        return Decimal(repr(value)) * 100
    return value


def _rows(values_ws, formulas_ws) -> list[tuple]:
    """The sheet's rows as the spreadsheet shows them (see `_shown`)."""
    rows = []
    # A file's own note of its size may be wrong (or a lie): read what is really there.
    values_ws.reset_dimensions()
    formulas_ws.reset_dimensions()
    pairs = zip(
        values_ws.iter_rows(max_col=MAX_COLUMNS),
        formulas_ws.iter_rows(max_col=MAX_COLUMNS, values_only=True),
        strict=False,
    )
    for cells, formulas in pairs:
        rows.append(
            tuple(_shown(cell, formula) for cell, formula in zip(cells, formulas, strict=False))
        )
        if len(rows) > MAX_ROWS:
            raise WorkbookRefused(
                [
                    f"The “{values_ws.title}” sheet has more than {MAX_ROWS:,} rows; a plan has "
                    "far fewer."
                ]
            )
    return rows


def _text(value) -> str:
    return "" if value is None or value is UNCALCULATED else str(value).strip()


def _cell(sheet: str, row: int, column: int) -> str:
    return f"{sheet}!{get_column_letter(column)}{row}"


def _export_id(book) -> int | None:
    for prop in book.custom_doc_props.props:
        if prop.name == EXPORT_PROPERTY:
            try:
                return int(prop.value)
            except (TypeError, ValueError):
                return None
    return None


def read_workbook(data: bytes, *, years: list[str], baseline: str) -> WorkbookCells:
    """Every value and table of the template in the workbook, typed. Raises WorkbookRefused
    with every problem of the file or its layout; each bad cell is named, by sheet and cell,
    in `problems` under its part."""
    if len(data) > MAX_BYTES:
        raise WorkbookRefused(
            [f"The file is {len(data) / 1024 / 1024:.1f} MB; the largest we accept is 5 MB."]
        )
    _unpacked_check(data)
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True, keep_links=False)
        formulas = load_workbook(BytesIO(data), read_only=True, keep_links=False)
        try:
            return _read(book, formulas, years, baseline)
        finally:
            book.close()
            formulas.close()
    except WorkbookRefused:
        raise
    except DefusedXmlException:
        raise WorkbookRefused(
            ["This workbook contains XML we do not accept (entity or external references)."]
        ) from None
    except Exception as error:  # openpyxl raises many kinds on a malformed file
        if isinstance(error.__context__, DefusedXmlException):
            raise WorkbookRefused(
                ["This workbook contains XML we do not accept (entity or external references)."]
            ) from None
        raise WorkbookRefused([NOT_XLSX]) from None


def _read(book, formulas, years: list[str], baseline: str) -> WorkbookCells:
    template = sheets(years, baseline)
    missing = [sheet.name for sheet in template if sheet.name not in book.sheetnames]
    if missing:
        raise WorkbookRefused(
            [
                "This workbook is not the ITF plan template: it has no "
                + ", ".join(f"“{name}”" for name in missing)
                + " sheet. Download the template from the plan page, fill it in and upload that."
            ]
        )
    cover = _rows(book["Cover"], formulas["Cover"])
    cells = WorkbookCells(
        export_id=_export_id(book), heading=_text(cover[1][0]) if len(cover) > 1 else ""
    )
    for sheet in template:
        rows = cover if sheet.name == "Cover" else _rows(book[sheet.name], formulas[sheet.name])
        if not rows or _text(rows[0][0]) != sheet.name:
            raise WorkbookRefused(
                [f"The “{sheet.name}” sheet is not laid out as the template: A1 should say so."]
            )
        at = 2
        for number, item in enumerate(sheet.items):
            if isinstance(item, SHOWN_ONLY):
                continue
            problems = cells.problems.setdefault(item.part, [])
            if isinstance(item, Value):
                at = _find(rows, at, item.label, sheet.name)
                raw = rows[at][1] if len(rows[at]) > 1 else None
                where = _cell(sheet.name, at + 1, 2)
                at += 1
                if item.kind == TEXT and isinstance(raw, str):
                    # A long answer goes on in the rows below it that have nothing in column A.
                    pieces = [raw]
                    while at < len(rows) and not _text(rows[at][0]) and _piece(rows[at]):
                        pieces.append(_piece(rows[at]))
                        at += 1
                    raw = answer_joined(pieces)
                try:
                    cells.values[(sheet.name, item.label)] = (_normal(item.kind, raw), where)
                except CellProblem as problem:
                    problems.append(f"{where.replace('!', ', cell ')}: {problem}")
            else:
                after = sheet.items[number + 1] if number + 1 < len(sheet.items) else None
                at = _read_table(rows, at, item, sheet.name, cells, problems, _label(after))
    cells.problems = {part: found for part, found in cells.problems.items() if found}
    return cells


def _piece(row: tuple) -> str:
    value = row[1] if len(row) > 1 else None
    return value if isinstance(value, str) else ""


def _normal(kind: str, raw):
    if raw is UNCALCULATED:
        raise CellProblem(NO_RESULT[0].upper() + NO_RESULT[1:])
    return normal(kind, raw)


def _label(item) -> str:
    """What an item shows in column A: a value's label, a table's title, a heading, the
    template's words."""
    if item is None:
        return ""
    if isinstance(item, (Heading, Words)):
        return item.text
    return item.label if isinstance(item, Value) else item.title


def _find(rows: list[tuple], start: int, label: str, sheet: str) -> int:
    for index in range(start, len(rows)):
        if _text(rows[index][0]) == label:
            return index
    raise WorkbookRefused(
        [
            f"The “{sheet}” sheet is not laid out as the template: “{label}” is missing "
            "from column A."
        ]
    )


def _read_table(
    rows: list[tuple],
    start: int,
    table: Table,
    sheet: str,
    cells: WorkbookCells,
    problems: list,
    next_label: str = "",
) -> int:
    at = _find(rows, start, table.title, sheet) + 1
    headers = [_text(value) for value in (rows[at] if at < len(rows) else ())][: len(table.columns)]
    expected = [column.header for column in table.columns]
    if headers != expected:
        raise WorkbookRefused(
            [
                f"The “{sheet}” sheet is not laid out as the template: row {at + 1} should have "
                f"the headings {', '.join(expected)}. Columns cannot be added, removed or "
                "renamed, and a workbook from another planning round cannot be imported into "
                "this one."
            ]
        )
    first = at + 1
    # A table ends where the sheet's next item starts (or at the sheet's end). One with a total
    # ends at its last "Total" row (a scheme may be called "Total" too); anything typed below
    # it, or to the right of the table, would be lost, so it is refused.
    end = len(rows)
    if next_label:
        end = next((i for i in range(first, len(rows)) if _text(rows[i][0]) == next_label), end)
    if table.total:
        limit = end
        totals = [i for i in range(first, limit) if _text(rows[i][0]) == "Total"]
        end = totals[-1] if totals else limit
        for index in range(end + 1, limit):
            number = next((n for n, value in enumerate(rows[index]) if _text(value)), None)
            if number is not None:
                where = _cell(sheet, index + 1, number + 1).replace("!", ", cell ")
                problems.append(
                    f"{where}: this is below the table's Total row, so it cannot be read. "
                    "Insert new rows above the Total row."
                )
                break
    found = []
    width = len(table.columns)
    for at in range(first, end):
        raw = list(rows[at][:width]) + [None] * width
        outside = next((n for n, value in enumerate(rows[at][width:], width) if _text(value)), None)
        if outside is not None:
            where = _cell(sheet, at + 1, outside + 1).replace("!", ", cell ")
            problems.append(f"{where}: this is outside the table's columns, so it cannot be read.")
        if any(_text(value) for value in raw[:width]):
            row = TableRow({}, {})
            for number, column in enumerate(table.columns):
                where = _cell(sheet, at + 1, number + 1)
                row.cells[column.key] = where
                try:
                    row.values[column.key] = _normal(column.kind, raw[number])
                except CellProblem as problem:
                    if not column.derived:
                        problems.append(f"{where.replace('!', ', cell ')}: {problem}")
                    row.values[column.key] = ""
            found.append(row)
    cells.tables[(sheet, table.title)] = found
    return end
