"""The workbook's layout, derived from the description of the template (`plans.template`).

Each part goes on its sheet in the template's order: its asked fields as labelled values (the
label in column A, the value beside it), its rows as a table with a column per cell of the row
model (a value per year is a column per year), and the pooled fund's grids (contributions by
partner and stream, spend by commissioner line, the agreed shares by partner). The Excel writer
lays sheets out from this, the importer reads workbooks back by it, and nothing here names a
part's fields: a question added to the description appears in the workbook and is read back.

Values are read from a plan snapshot: the sealed version when there is one, else the draft. Each
table also says how its cells go back into its part's form (`fields`), so an edited workbook
passes exactly the checks a person typing into the page meets.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from finance.parts import ArrangementsForm, ContributionsForm, HealthSpendForm
from finance.rules import spend_lines
from itf_portal.money import LIMIT, PENNY
from plans.constants import FundingStream, PartKey
from plans.snapshot import sealed_content
from plans.template import (
    PART_BY_KEY,
    PARTS,
    Cell,
    Derived,
    HealthSpend,
    Kind,
    PartSpec,
    cells,
    layout,
    recorded_name,
    spend_lines_for,
)

TEXT, YES_NO, NUMBER, MONEY, DATE = ("text", "yes_no", "number", "money", "date")
AMOUNTS = (MONEY,)
# The document property that says which export a workbook came from.
EXPORT_PROPERTY = "ITF Portal export"


class CellProblem(ValueError):
    """A cell's value cannot go into the plan; `column` names the table column, if any."""

    def __init__(self, message: str, column: str = ""):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Heading:
    """A part's heading on a sheet that holds several parts; never read back."""

    text: str
    part: str


@dataclass(frozen=True)
class Words:
    """The template's question and guidance points for a part, above its answer; never read
    back (the importer skips it and a table above it ends at it)."""

    text: str
    part: str


@dataclass(frozen=True)
class Value:
    """One asked field of a part: its label in column A, its value beside it."""

    label: str
    part: str
    cell: Cell

    @property
    def key(self) -> str:
        return self.cell.name

    @property
    def kind(self) -> str:
        return cell_kind(self.cell.kind)

    def choices(self, snapshot: dict) -> list[str]:
        return choice_labels(self.cell, snapshot)

    def post(self, plan, value) -> str:
        return posted(self.cell, value, plan)


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = TEXT
    derived: bool = False  # worked out by the portal: shown grey, never read back
    choices: object = None  # snapshot -> the labels its dropdown offers
    negated_by: str = ""  # the key of the Yes/No column that makes this amount count against
    # What an amount column holds: its part's field ("amount", "spend") and the year, so that
    # its total is the measure a check or the Cover names (`plans.checks.total_of`).
    field: str = ""
    period: str = ""


@dataclass(frozen=True)
class Table:
    """A table of rows; amount columns get a live total when `total` is set.

    `fields(plan, row, index)` turns one row read back from a workbook into the part form's
    inputs, by column: {column key: [(input name, value), ...]}. A table with `key` columns is a
    grid whose rows are found by those columns; any other table's rows are found by position.
    """

    title: str
    part: str
    rows: object  # snapshot -> list of dicts keyed by the columns' keys
    columns: list[Column]
    fields: object  # (plan, row, index) -> {column key: [(input name, value)]}
    key: tuple[str, ...] = ()
    total: bool = False
    # The column whose values the table's amounts are also added up by, below it (the
    # contributions by partner, the schemes by lead commissioner).
    subtotal_by: str = ""


@dataclass(frozen=True)
class Subtotals:
    """A table's amounts added up by the values of one of its columns, as live formulas of the
    table's own cells; never read back."""

    table: Table

    @property
    def part(self) -> str:
        return self.table.part

    @property
    def by(self) -> Column:
        return next(column for column in self.table.columns if column.key == self.table.subtotal_by)

    @property
    def title(self) -> str:
        return f"{self.table.title}: totals by {self.by.header.lower()}"

    @property
    def amounts(self) -> list[Column]:
        return [column for column in self.table.columns if column.kind in AMOUNTS]

    def values(self, snapshot: dict) -> list[str]:
        """Each value of the column once, in the order the table shows them."""
        found = [str(row.get(self.table.subtotal_by) or "") for row in self.table.rows(snapshot)]
        return [value for value in dict.fromkeys(found) if value]


# The items a sheet shows that are never read back.
SHOWN_ONLY = (Heading, Words, Subtotals)


@dataclass(frozen=True)
class Sheet:
    name: str
    items: list = field(default_factory=list)


def printable(text: str) -> str:
    """Text a workbook can hold: XML forbids most control characters. Word's line break (a
    vertical tab) becomes a new line; the others are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", text.replace("\x0b", "\n"))


def normal(kind: str, raw):
    """A cell's value as the plan holds it, the same for a snapshot's value and a workbook's
    cell, so the two compare equal when nobody changed it. Raises CellProblem when it cannot
    be that kind of value."""
    if raw is None:
        raw = ""
    if isinstance(raw, str):
        raw = raw.replace("\r\n", "\n").strip() if kind != TEXT else raw.replace("\r\n", "\n")
    if kind in (NUMBER, *AMOUNTS):
        return _amount(kind, raw)
    if kind == YES_NO:
        if isinstance(raw, bool):
            return "Yes" if raw else "No"
        text = str(raw).strip().capitalize()
        if text not in ("", "Yes", "No"):
            raise CellProblem("Enter Yes or No.")
        return text
    if kind == DATE:
        return _date(raw)
    if isinstance(raw, datetime):
        raw = raw.date() if raw.time() == datetime.min.time() else raw
    if isinstance(raw, (date, datetime)):
        return raw.isoformat()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return printable(str(raw))


def _amount(kind: str, raw):
    if raw == "":
        return Decimal(0) if kind in AMOUNTS else ""
    if isinstance(raw, (bool, date, datetime)):
        raise CellProblem("Enter a number, like 1250 or 12.5.")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise CellProblem("Enter a number, like 1250 or 12.5.")
        raw = repr(raw)
    text = str(raw).strip().replace(",", "").replace("£", "")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellProblem("Enter a number, like 1250 or 12.5.") from None
    if not value.is_finite():
        raise CellProblem("Enter a number, like 1250 or 12.5.")
    if kind == MONEY and value < 0:
        raise CellProblem("Enter an amount of 0 or more.")
    if value > LIMIT or value < -LIMIT:
        raise CellProblem(f"Enter an amount of £{LIMIT:,} or less.")
    if kind in AMOUNTS or value.as_tuple().exponent < -2:
        # A spreadsheet's own arithmetic leaves float noise (0.30000000000000004): pennies are
        # kept, anything finer that is not noise is refused.
        if abs(value - value.quantize(PENNY)) > Decimal("0.000001"):
            raise CellProblem("Use no more than 2 decimal places.")
        value = value.quantize(PENNY)
    return value


def _date(raw) -> str:
    if raw == "":
        return ""
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = str(raw).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise CellProblem("Enter a real date, like 31/03/2015.")


def cell_kind(kind: Kind) -> str:
    """How a field of this kind is written to a cell and read back."""
    if kind in (Kind.YES_NO, Kind.FLAG):
        return YES_NO
    if kind == Kind.DATE:
        return DATE
    if kind in (Kind.PERCENT, Kind.NUMBER, Kind.DAYS):
        return NUMBER
    if kind == Kind.MONEY:
        return MONEY
    return TEXT


def _partners(snapshot: dict) -> list[dict]:
    return snapshot.get("partners", [])


def choice_labels(cell: Cell, snapshot: dict) -> list[str]:
    """The labels a cell's dropdown offers: a choice's labels, or the plan's partners."""
    if cell.kind == Kind.CHOICE:
        return [label for _, label in cell.question.ask.choices.choices]
    if cell.kind == Kind.PARTNER:
        return [partner["name"] for partner in _partners(snapshot)]
    return []


def shown_value(cell: Cell, content: dict, snapshot: dict, model=None):
    """A stored value as its cell shows it: Yes/No, a choice's label, a partner's name, an
    amount as a number."""
    value = cell.value(content)
    match cell.kind:
        case Kind.YES_NO:
            return {"yes": "Yes", "no": "No"}.get(value or "", "")
        case Kind.FLAG:
            return "Yes" if value else "No"
        case Kind.CHOICE:
            return dict(cell.question.ask.choices.choices).get(value or "", "")
        case Kind.PARTNER:
            recorded = recorded_name(model, cell.question.name) if model else ""
            names = {partner["id"]: partner["name"] for partner in _partners(snapshot)}
            return (content.get(recorded) if recorded else "") or names.get(value, "")
        case Kind.MONEY:
            return Decimal(value) if value not in ("", None) else Decimal(0)
        case Kind.PERCENT | Kind.NUMBER | Kind.DAYS:
            return Decimal(str(value)) if value not in ("", None) else ""
    return "" if value is None else value


def posted(cell: Cell, value, plan, column: str = "") -> str:
    """A cell's normal value as the part's form expects it posted; CellProblem when it names
    no choice or partner."""
    match cell.kind:
        case Kind.YES_NO:
            return {"Yes": "yes", "No": "no"}.get(value, "")
        case Kind.FLAG:
            return "on" if value == "Yes" else ""
        case Kind.CHOICE:
            if not str(value).strip():
                return ""
            choices = cell.question.ask.choices
            found = next((v for v, label in choices.choices if label == str(value).strip()), None)
            if found is None:
                labels = "; ".join(label for _, label in choices.choices)
                raise CellProblem(
                    f"“{value}” is not a choice for {cell.header}. Choose one of: {labels}.",
                    column,
                )
            return found
        case Kind.PARTNER:
            return str(_partner(plan, value, column).pk) if str(value).strip() else ""
    if cell_kind(cell.kind) in (NUMBER, *AMOUNTS):
        return posted_amount(value)
    return value


def _partner(plan, name: str, column: str):
    found = next((o for o in plan.partner_organisations if o.name == str(name).strip()), None)
    if found is None:
        raise CellProblem(f"“{name}” is not a partner in this plan.", column)
    return found


def _years(snapshot: dict) -> list[str]:
    return snapshot["round"]["years"]


# ---- Tables of rows, one column per cell of the row model --------------------------------


def _column(cell: Cell | Derived, cells_by_name: dict) -> Column:
    if isinstance(cell, Derived):
        return Column(cell.label, cell.label, derived=True)
    negated_by = ""
    for other in cells_by_name.values():
        if other.question.ask.negates == cell.question.name:
            negated_by = other.name
    return Column(
        cell.header,
        cell.name,
        cell_kind(cell.kind),
        choices=(lambda snapshot, cell=cell: choice_labels(cell, snapshot))
        if cell.kind in (Kind.CHOICE, Kind.PARTNER)
        else None,
        negated_by=negated_by,
        field=cell.question.name,
        period=cell.period,
    )


def row_table(spec: PartSpec, years: list[str]) -> Table:
    """The table of a part's rows, its columns derived from the row model."""
    model = spec.row_model
    laid_out = layout(model, years)
    by_name = {item.name: item for item in laid_out if isinstance(item, Cell)}
    columns = [_column(item, by_name) for item in laid_out]

    def shown(item: Cell | Derived, row: dict, snapshot: dict):
        if isinstance(item, Derived):
            return item.value(row)
        return shown_value(item, row, snapshot, model)

    def rows(snapshot: dict) -> list[dict]:
        content = sealed_content(snapshot, spec.key)
        return [
            {
                column.key: shown(item, row, snapshot)
                for item, column in zip(laid_out, columns, strict=True)
            }
            for row in spec.content.rows_shown(content)
        ]

    def fields(plan, row: dict, index: int) -> dict:
        prefix = f"rows-{index}-"
        return {
            name: [(prefix + name, posted(cell, row[name], plan, name))]
            for name, cell in by_name.items()
        }

    money = any(cell_kind(cell.kind) in AMOUNTS for cell in by_name.values())
    partner = next((name for name, cell in by_name.items() if cell.kind == Kind.PARTNER), "")
    return Table(
        spec.table_heading,
        spec.key,
        rows,
        columns,
        fields,
        total=money,
        subtotal_by=partner if money else "",
    )


# ---- The pooled fund's grids: a row per partner and stream, or per commissioner line -------


def contribution_rows(snapshot: dict) -> list[dict]:
    """A row for every partner and funding stream (so any cell can be filled in), then any
    amounts kept from a former partner."""
    years = _years(snapshot)
    grid: dict = {
        (partner["id"], stream.value): {"partner": partner["name"], "stream": stream.label}
        for partner in _partners(snapshot)
        for stream in FundingStream
    }
    for entry in sealed_content(snapshot, PartKey.CONTRIBUTIONS).get("amounts", []):
        key = (entry["organisation"], entry["stream"])
        row = grid.setdefault(
            key,
            {
                "partner": entry.get("organisation_name", ""),
                "stream": FundingStream(entry["stream"]).label,
            },
        )
        row[entry["year"]] = Decimal(entry["amount"])
    return [{**row, **{year: row.get(year, Decimal(0)) for year in years}} for row in grid.values()]


def _stream(label: str, column: str) -> str:
    found = next((value for value, text in FundingStream.choices if text == label.strip()), None)
    if found is None:
        raise CellProblem(f"“{label}” is not a funding stream the template knows.", column)
    return found


def contribution_fields(plan, row: dict, index: int) -> dict:
    partner = _partner(plan, row["partner"], "partner")
    stream = _stream(row["stream"], "stream")
    return {
        year: [(ContributionsForm.cell_name(partner.pk, stream, number), posted_amount(row[year]))]
        for number, year in enumerate(plan.round.year_labels)
    }


def posted_amount(value) -> str:
    return "" if value in ("", None) else str(value)


def _spend_years(snapshot_round: dict) -> list[str]:
    return [snapshot_round.get("baseline", ""), *snapshot_round["years"]]


def spend_rows(snapshot: dict) -> list[dict]:
    """A row for every commissioner line of the plan's partners, then any other stored line."""
    content = sealed_content(snapshot, PartKey.SPEND)
    partners = _partners(snapshot)
    council = next((p["name"] for p in partners if p["kind"] == "la"), "")
    lines = {
        line["key"]: line["label"]
        for line in spend_lines_for(
            council, [(p["id"], p["name"]) for p in partners if p["kind"] != "la"]
        )
    }
    for key, label in content.get("line_labels", {}).items():
        lines.setdefault(key, label)
    stored = content.get("lines", {})
    rows = []
    for key, label in lines.items():
        values = stored.get(key, {})
        row = {"line": label}
        for year in _spend_years(snapshot["round"]):
            for what in ("spend", "benefits"):
                row[f"{what} {year}"] = Decimal((values.get(what) or {}).get(year) or "0")
        rows.append(row)
    return rows


def spend_fields(plan, row: dict, index: int) -> dict:
    line = next((line for line in spend_lines(plan) if line["label"] == row["line"].strip()), None)
    if line is None:
        raise CellProblem(f"“{row['line']}” is not a commissioner line of this plan.", "line")
    years = [plan.round.baseline_label, *plan.round.year_labels]
    return {
        f"{what} {year}": [
            (
                HealthSpendForm.cell_name(line["key"], what, number),
                posted_amount(row[f"{what} {year}"]),
            )
        ]
        for number, year in enumerate(years)
        for what in ("spend", "benefits")
    }


SHARE = "Share of over- and under-spends (%)"


def share_rows(snapshot: dict) -> list[dict]:
    """A row for every partner, then any share kept from a former partner."""
    content = sealed_content(snapshot, PartKey.ARRANGEMENTS)
    names = {str(partner["id"]): partner["name"] for partner in _partners(snapshot)}
    for pk, name in (content.get("share_names") or {}).items():
        names.setdefault(pk, name)
    shares = content.get("shares") or {}
    return [
        {"partner": name, "share": Decimal(shares[pk]) if shares.get(pk) not in (None, "") else ""}
        for pk, name in names.items()
    ]


def share_fields(plan, row: dict, index: int) -> dict:
    partner = _partner(plan, row["partner"], "partner")
    return {"share": [(ArrangementsForm.share_name(partner.pk), posted_amount(row["share"]))]}


# Each grid of the pooled fund, by the part it belongs to (years -> its table).
GRIDS = {
    PartKey.CONTRIBUTIONS: lambda years, baseline: Table(
        "Contributions to the pooled fund",
        PartKey.CONTRIBUTIONS,
        contribution_rows,
        [
            Column("Partner", "partner"),
            Column("Funding stream", "stream"),
            *(Column(year, year, MONEY, field="amount", period=year) for year in years),
        ],
        contribution_fields,
        key=("partner", "stream"),
        total=True,
        subtotal_by="partner",
    ),
    PartKey.ARRANGEMENTS: lambda years, baseline: Table(
        "Agreed shares",
        PartKey.ARRANGEMENTS,
        share_rows,
        [Column("Partner", "partner"), Column(SHARE, "share", NUMBER)],
        share_fields,
        key=("partner",),
    ),
    PartKey.SPEND: lambda years, baseline: Table(
        "Total health and care spend for each commissioner",
        PartKey.SPEND,
        spend_rows,
        [
            Column(HealthSpend.line_heading, "line"),
            *(
                Column(f"{year} {what}", f"{what} {year}", MONEY, field=what, period=year)
                for year in ([baseline, *years] if baseline else years)
                for what in ("spend", "benefits")
            ),
        ],
        spend_fields,
        key=("line",),
        total=True,
    ),
}


# ---- The sheets ----------------------------------------------------------------------------

CHECKLIST = "Checklist"


def part_items(spec: PartSpec, years: list[str], baseline: str = "") -> list:
    """A part's values and tables, derived from its description."""
    asked = [cell for cell in cells(spec.content, years) if not cell.period]
    # A narrative answer is labelled by its part's heading ("Governance"), any other field by
    # its own label.
    items: list = [
        Value(spec.title if spec.content.asks_heading else cell.header, spec.key, cell)
        for cell in asked
    ]
    if spec.row_model is not None:
        items.append(row_table(spec, years))
    if spec.key in GRIDS:
        items.append(GRIDS[spec.key](years, baseline))
    return [
        *items,
        *(Subtotals(item) for item in items if isinstance(item, Table) and item.subtotal_by),
    ]


def part_words(spec: PartSpec) -> Words | None:
    """The template's question for a part and its guidance points, one per line."""
    if not spec.words or not spec.in_template:
        return None
    return Words("\n".join([spec.words, *(f"• {point}" for point in spec.points)]), spec.key)


def sheets(years: list[str], baseline: str = "") -> list[Sheet]:
    """The workbook's sheets for a round with these years: each part on its sheet in the
    template's order, under its heading where a sheet holds several parts and its question and
    guidance, then the Checklist."""
    by_name: dict[str, Sheet] = {CHECKLIST: Sheet(CHECKLIST)}
    parts_on: dict[str, int] = {}
    for spec in PARTS:
        parts_on[spec.sheet_name] = parts_on.get(spec.sheet_name, 0) + 1
    for spec in PARTS:
        sheet = by_name.setdefault(spec.sheet_name, Sheet(spec.sheet_name))
        items = part_items(spec, years, baseline)
        if parts_on[spec.sheet_name] > 1 and len(items) > 1:
            sheet.items.append(Heading(spec.heading, spec.key))
        if words := part_words(spec):
            sheet.items.append(words)
        sheet.items.extend(items)
    # The Cover first, as on the template; the Checklist after the template's own sheets.
    checklist = by_name.pop(CHECKLIST)
    return [*by_name.values(), checklist]


def answer_pieces(text: str, most: int, lines_of) -> list[str]:
    """A long answer cut into the pieces that each fit one row of a sheet (at most `most` lines,
    as `lines_of` counts them): after a paragraph's line break where it can, else after a space,
    so that every piece but the last ends in the break or space it was cut at and
    `answer_joined` puts them back exactly. A row holds at most 409 pt, and a spreadsheet prints
    no more of a cell than its row shows."""
    pieces = []
    rest = text
    while lines_of(rest) > most:
        ends = [n + 1 for n, character in enumerate(rest) if character == "\n"]
        spaces = [n + 1 for n, character in enumerate(rest) if character == " "]
        cut = _last_fitting(ends, rest, most, lines_of) or _last_fitting(
            spaces, rest, most, lines_of
        )
        if not cut:
            break  # one word longer than a row: it stays whole
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [*pieces, rest]


def _last_fitting(ends: list[int], text: str, most: int, lines_of) -> int:
    """The last of the (rising) `ends` whose text up to it fits `most` lines, or 0: a binary
    search, since a longer text never takes fewer lines."""
    low, high, found = 0, len(ends) - 1, 0
    while low <= high:
        middle = (low + high) // 2
        if lines_of(text[: ends[middle]]) <= most:
            found, low = ends[middle], middle + 1
        else:
            high = middle - 1
    return found


def answer_joined(pieces: list[str]) -> str:
    """The answer that `answer_pieces` cut. A piece that does not end in a break or a space was
    typed into a row of its own, so it starts a new paragraph."""
    joined = pieces[0] if pieces else ""
    for piece in pieces[1:]:
        joined += ("" if joined.endswith((" ", "\n")) else "\n") + piece
    return joined


def value_of(snapshot: dict, item: Value):
    """A labelled answer's cell: as any cell shows it, except that an amount nobody has given
    stays blank (a threshold not yet set is not £0)."""
    content = sealed_content(snapshot, item.part)
    if item.cell.kind == Kind.MONEY and item.cell.value(content) in ("", None):
        return ""
    return shown_value(item.cell, content, snapshot, PART_BY_KEY[item.part].content)
