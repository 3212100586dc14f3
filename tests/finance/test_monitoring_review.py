"""In-year monitoring's second slice, reviewed as an attacker would try it: the return's
workbook out and back, the element paid for performance, the national composite's Monitoring
sheet and the comments on a return."""

import io
import time
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import IntProperty, StringProperty

from finance.models import Allocation, PerformanceMeasure, QuarterlyReturn, ReturnComment
from finance.rules import measure_achieved, performance_payments
from governance.monitoring import figures_for, quarter_find, return_save, submitted_seal
from plans.constants import NATIONAL_METRICS
from tests.finance.test_monitoring import page, person, plymouth, return_url
from tests.finance.test_monitoring_edges import snapshot_change

Q2 = "2015-16-q2"


@pytest.fixture(autouse=True)
def demo(submitted_demo, db):
    """The demo as `make run` loads it; each test's changes rolled back after it."""


def _export(client, plan, slug=Q2):
    response = client.get(page(plan, "quarterly_return_export", quarter=slug))
    assert response.status_code == 200, response.status_code
    return response.content


def _import(client, plan, data: bytes, slug=Q2, name="return.xlsx"):
    upload = SimpleUploadedFile(name, data)
    return client.post(return_url(plan, slug), {"import": "1", "workbook": upload})


def _saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _edited(data: bytes, change) -> bytes:
    """The exported workbook with `change(sheet)` made to its Return sheet."""
    book = load_workbook(io.BytesIO(data))
    change(book["Return"])
    return _saved(book)


def _row_of(sheet, name: str):
    return next(row for row in sheet.iter_rows(min_row=5) if row[1].value == name)


def _scheme_cell(name: str, column: int, value):
    def change(sheet):
        _row_of(sheet, name)[column].value = value

    return change


def _property_book(plan, slug=Q2, version=1, rows=()) -> Workbook:
    """A workbook that carries this return's custom properties, with `rows` on a Return sheet."""
    quarter = quarter_find(plan, slug)
    book = Workbook()
    book.active.title = "Return"
    book.custom_doc_props.append(IntProperty(name="itf_return_version", value=version))
    book.custom_doc_props.append(
        IntProperty(name="itf_return", value=int(f"{plan.pk}{quarter.year}{quarter.quarter}"))
    )
    for row in rows:
        book.active.append(row)
    return book


# ---- The workbook's import: hostile files ---------------------------------------------------


def _zip_not_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return out.getvalue()


@pytest.mark.parametrize(
    "data, says",
    [
        (b"just some text", "The file is not an Excel workbook (.xlsx)."),
        (b"", "The submitted file is empty."),
        (_zip_not_xlsx(), "The file is not an Excel workbook (.xlsx)."),
        (_saved(Workbook()), "This is not the workbook of the Quarter 2 of 2015/16"),
    ],
    ids=["text", "empty", "zip", "a-blank-workbook"],
)
def test_a_file_that_is_not_the_returns_workbook_is_refused_with_why(client, data, says):
    plan = plymouth()
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    response = _import(client, plan, data)
    assert response.status_code == 400, response.status_code
    assert says in response.content.decode()


def test_a_workbook_with_the_returns_properties_but_narrow_rows_is_refused_not_a_server_error(
    client,
):
    """The right custom properties and a Return sheet whose scheme rows have only their number
    and name (the amount columns cut off): the reader indexes columns E, F and I of every row."""
    plan = plymouth()
    schemes = figures_for(submitted_seal(plan), "2015/16", {})["schemes"]
    heading = [["Title"], ["Area"], ["Help"], ["No.", "Scheme"]]
    rows = [*heading, *([str(s["position"] + 1), s["name"]] for s in schemes)]
    data = _saved(_property_book(plan, rows=rows))
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    response = _import(client, plan, data)
    assert response.status_code == 400, response.status_code


def test_a_workbook_with_the_returns_properties_and_a_row_of_one_cell_is_refused(client):
    plan = plymouth()
    data = _saved(_property_book(plan, rows=[["Title"], [], [], [], ["1"]]))
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    response = _import(client, plan, data)
    assert response.status_code == 400, response.status_code


def test_a_chart_sheet_named_return_is_refused_not_a_server_error(client):
    """A chart sheet has no cells: the reader asks it for its rows."""
    plan = plymouth()
    book = _property_book(plan)
    book.active.title = "Data"
    book.create_chartsheet("Return")
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    response = _import(client, plan, _saved(book))
    assert response.status_code == 400, response.status_code


def test_a_renamed_return_sheet_or_scheme_rows_moved_are_refused_with_why(client):
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    data = _export(client, plan)
    book = load_workbook(io.BytesIO(data))
    book["Return"].title = "My return"
    response = _import(client, plan, _saved(book))
    assert response.status_code == 400
    assert "This is not the workbook of the Quarter 2 of 2015/16" in response.content.decode()
    moved = _edited(data, lambda sheet: sheet.delete_rows(6))
    response = _import(client, plan, moved)
    assert response.status_code == 400
    assert "Scheme 2 (Community and bed based) is not where the workbook put it" in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    "value",
    [
        datetime(2015, 9, 30),
        date(2015, 9, 30),
        True,
        "=F6*2",
        1e300,
        -5,
        123.456,
        "lots",
        10**15,
    ],
    ids=["datetime", "date", "boolean", "formula", "huge", "negative", "decimals", "word", "big"],
)
def test_odd_values_in_an_amount_cell_are_refused_beside_the_field(client, value):
    plan = plymouth()
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    data = _edited(_export(client, plan), _scheme_cell("Acute", 5, value))
    response = _import(client, plan, data)
    text = response.content.decode()
    assert response.status_code == 400, response.status_code
    assert "Acute: Forecast outturn" in text  # the message names the line
    assert QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2).version == 1


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400"])
def test_a_number_no_spreadsheet_holds_in_a_measure_cell_is_refused(client, value):
    """A cell's <v> rewritten by hand: openpyxl reads it as a float nan or inf."""
    plan = plymouth()
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    marker = 7654321.5

    def change(sheet):
        row = next(r for r in sheet.iter_rows() if r[1].value == "Emergency admissions")
        row[5].value = marker

    data = _edited(_export(client, plan), change)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<v>7654321.5</v>", f"<v>{value}</v>".encode())
            target.writestr(item, content)
    response = _import(client, plan, out.getvalue())
    assert response.status_code == 400, response.status_code
    text = response.content.decode()
    # Named beside its field where the spreadsheet's number can be read, else by its row.
    assert "Emergency admissions: Latest actual" in text or "of the Return sheet holds" in text


@pytest.mark.parametrize(
    "version",
    [StringProperty(name="itf_return_version", value="1"), -1],
    ids=["text", "negative"],
)
def test_a_workbook_that_does_not_say_its_version_is_refused(client, version):
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    book = load_workbook(io.BytesIO(_export(client, plan)))
    props = [p for p in book.custom_doc_props.props if p.name != "itf_return_version"]
    book.custom_doc_props.props = props
    if isinstance(version, int):
        version = IntProperty(name="itf_return_version", value=version)
    book.custom_doc_props.append(version)
    response = _import(client, plan, _saved(book))
    assert response.status_code == 400
    assert "does not say which version of the return it is" in response.content.decode()


def test_a_sheet_of_50000_rows_is_refused_quickly(client):
    plan = plymouth()
    rows = [["Title"], [], [], []] + [[str(n), f"Row {n}", "", 1, 2, 3] for n in range(50_000)]
    data = _saved(_property_book(plan, rows=rows))
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    started = time.monotonic()
    response = _import(client, plan, data)
    assert response.status_code == 400, response.status_code
    assert time.monotonic() - started < 60


def _bomb(plan, rows: int) -> bytes:
    """A small upload whose Return sheet unpacks to `rows` rows (it compresses a thousandfold)."""
    data = _saved(_property_book(plan, rows=[["x"]]))
    body = b"<row>" + b"<c><v>1</v></c>" * 9 + b"</row>"
    body *= rows
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = content.index(b"<sheetData>") + len(b"<sheetData>")
                content = content[:start] + body + content[content.index(b"</sheetData>") :]
                content = content.replace(b'<dimension ref="A1"/>', b"")
            target.writestr(item.filename, content)
    return out.getvalue()


def test_a_small_upload_that_unpacks_to_a_huge_sheet_is_refused_quickly(client):
    """The 5 MB limit is on the packed file: 150,000 rows pack into under 100 kB (a 5 MB file
    holds many times more), and the reader loads every cell of the sheet into memory
    before it looks at a row."""
    plan = plymouth()
    data = _bomb(plan, 150_000)
    assert len(data) < 100 * 1024
    client.raise_request_exception = False
    client.force_login(person("plymouth-finance"))
    started = time.monotonic()
    response = _import(client, plan, data)
    assert response.status_code == 400, response.status_code
    assert time.monotonic() - started < 10


def test_an_import_that_lacks_the_measures_and_payments_rows_does_not_blank_their_figures(
    client,
):
    """Rows of the schemes moved or gone are refused; rows of the payments in and the measures
    deleted from the workbook were silently read as blank, so saving what the import shows
    would wipe the stored figures."""
    plan = plymouth()
    client.force_login(person("plymouth-finance"))

    def cut(sheet):
        start = next(
            r[0].row for r in sheet.iter_rows() if r[0].value == "Paid into the pool to date"
        )
        end = next(
            r[0].row for r in sheet.iter_rows() if r[0].value == "Commentary for the partners"
        )
        sheet.delete_rows(start, end - start)

    response = _import(client, plan, _edited(_export(client, plan), cut))
    if response.status_code != 400:  # refused, or shown with the stored figures kept
        form = response.context["form"]
        assert form["actual_0"].value() not in ("", None)
        paid = [name for name in form.fields if name.startswith("paid_")]
        assert [form[name].value() for name in paid if form[name].value() in ("", None)] == []


# ---- Who may export and import ---------------------------------------------------------------


def test_nobody_outside_the_area_exports_or_imports_its_return_and_a_reader_cannot_import(client):
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    data = _export(client, plan)
    export = page(plan, "quarterly_return_export", quarter=Q2)
    for name in ("devon-admin", "walsall-finance"):
        client.force_login(person(name))
        assert client.get(export).status_code == 404
        assert _import(client, plan, data).status_code == 404
    for name in ("plymouth-reviewer", "plymouth-commissioner"):
        client.force_login(person(name))
        assert _import(client, plan, data).status_code == 403
        text = client.get(return_url(plan, Q2)).content.decode()
        assert "Import the workbook" not in text
    client.logout()
    assert client.get(export).status_code == 302
    assert _import(client, plan, data).status_code == 302
    client.force_login(person("plymouth-finance"))
    assert (
        client.get(page(plan, "quarterly_return_export", quarter="2016-17-q1")).status_code == 404
    )
    assert client.get(page(plan, "quarterly_return_export", quarter="2015-16-q4")).status_code in (
        200,
        409,
    )
    from plans.models import Plan

    rotherham = Plan.objects.select_related("area", "round").get(area__slug="rotherham")
    client.force_login(person("rotherham-finance"))
    refused = client.get(page(rotherham, "quarterly_return_export", quarter="2014-15-q1"))
    assert refused.status_code == 409
    assert "once the plan has been submitted" in refused.content.decode()


def test_the_workbook_of_another_areas_return_is_refused(client):
    from governance.signoff import plan_mark_submitted
    from plans.models import Plan

    southampton = Plan.objects.select_related("area", "round").get(area__slug="southampton")
    plan_mark_submitted(
        plan=southampton, user=person("southampton-admin"), submitted_on=date(2014, 2, 14)
    )
    southampton.refresh_from_db()
    client.force_login(person("southampton-finance"))
    theirs = _export(client, southampton)
    client.force_login(person("plymouth-finance"))
    response = _import(client, plymouth(), theirs)
    assert response.status_code == 400
    assert "This is not the workbook of the Quarter 2 of 2015/16" in response.content.decode()


# ---- What a person typed is never a formula in the workbook -----------------------------------

TYPED = ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://evil.example","x")']


def test_text_that_starts_like_a_formula_is_written_as_text(client):
    plan = plymouth()

    def names(snapshot):
        snapshot["parts"]["schemes"]["content"]["rows"][0]["name"] = "=cmd|' /C calc'!A0"
        snapshot["parts"]["metrics"]["content"]["rows"][0]["unit"] = "+1+1"
        snapshot["partners"][0]["name"] = "@SUM(1)"

    snapshot_change(plan, names)
    quarter = quarter_find(plan, "2015-16-q3")
    figures = figures_for(submitted_seal(plan), "2015/16", {})
    lines = [
        {"position": row["position"], "progress": TYPED[n % len(TYPED)]}
        for n, row in enumerate(figures["schemes"])
    ]
    return_save(
        plan=plan,
        quarter=quarter,
        content={"note": "=2*3", "schemes": lines},
        base_version=0,
        user=person("plymouth-finance"),
    )
    client.force_login(person("plymouth-finance"))
    book = load_workbook(io.BytesIO(_export(client, plan, "2015-16-q3")))
    wanted = {*TYPED, "=2*3", "=cmd|' /C calc'!A0", "+1+1"}
    cells = [c for row in book["Return"].iter_rows() for c in row if isinstance(c.value, str)]
    typed = [c for c in cells if c.value in wanted or c.value.startswith("@SUM(1), ")]
    assert {c.value for c in typed} >= wanted
    assert any(c.value.startswith("@SUM(1), ") for c in typed)  # a partner's payments line
    assert [(c.coordinate, c.data_type) for c in typed if c.data_type != "s"] == []


# ---- The workbook's live formulas against the page's figures ----------------------------------


def _recalculated_return(client, plan, slug, tmp_path):
    from tests.libreoffice import recalculated

    path = tmp_path / "return.xlsx"
    path.write_bytes(_export(client, plan, slug))
    return load_workbook(recalculated([path], tmp_path) / path.name, data_only=True)


def test_the_workbooks_totals_variances_and_checklist_match_the_page_with_income_and_blanks(
    client, tmp_path
):
    """Quarter 3: Wellbeing without a forecast (it counts at its plan), Acute £1.2m over, the
    income line £272,000 over its plan (which reduces the spend), some spend to date blank."""
    plan = plymouth()
    quarter = quarter_find(plan, "2015-16-q3")
    blank = figures_for(submitted_seal(plan), "2015/16", {})
    at = {row["name"]: row["position"] for row in blank["schemes"]}
    content = {
        "schemes": [
            {"position": at["Wellbeing"], "spend_to_date": "12000000"},
            {"position": at["Acute"], "spend_to_date": "110000000", "forecast": "152614000"},
            {"position": at["Income"], "spend_to_date": "24000000", "forecast": "33000000"},
            {"position": at["Staffing"], "forecast": "18142000"},
        ]
    }
    saved, _ = return_save(
        plan=plan,
        quarter=quarter,
        content=content,
        base_version=0,
        user=person("plymouth-finance"),
    )
    figures = figures_for(submitted_seal(plan), "2015/16", saved.content)
    assert figures["variance"] == Decimal("1200000") - Decimal("272000")
    client.force_login(person("plymouth-finance"))
    book = _recalculated_return(client, plan, "2015-16-q3", tmp_path)
    rows = list(book["Return"].iter_rows(values_only=True))
    by_name = {row[1]: row for row in rows if row[1]}
    assert by_name["Income"][7] == -272000  # the line's variance, as the page shows it
    assert by_name["Wellbeing"][6] == 17158000  # no forecast: counts at its plan
    net = by_name["Net (spend less income)"]
    assert Decimal(str(net[3])) == figures["planned"]
    assert Decimal(str(net[4])) == figures["spent"]
    assert Decimal(str(net[6])) == figures["forecast"]
    assert Decimal(str(net[7])) == figures["variance"]  # the net variance, as on the page
    over = next(row for row in rows if row[1] and row[1].startswith("Forecast over-spend"))
    assert Decimal(str(over[3])) == figures["overspend"]
    checks = {r[0]: (r[1], r[2]) for r in book["Checklist"].iter_rows(min_row=4, values_only=True)}
    forecast_check = checks["Every scheme planned to spend in the year has a forecast"]
    unforecast = len(figures["unforecast"])
    assert unforecast > 0
    assert forecast_check[0] == "No"
    assert forecast_check[1].startswith(f"{unforecast} of the schemes planned to spend")
    assert checks["No forecast outturn is below its spend to date"][0] == "Yes"
    assert (
        checks["The forecast over- or under-spend is within the materiality threshold"][0] == "No"
    )


def test_a_workbook_saved_by_libreoffice_imports_into_the_form(client, tmp_path):
    """A finance lead fills the return in with LibreOffice Calc: it saves the document's
    number properties as decimals (itf_return_version 1.0), which the import refuses as "does
    not say which version"."""
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    _recalculated_return(client, plan, Q2, tmp_path)
    data = (tmp_path / "recalculated" / "return.xlsx").read_bytes()
    response = _import(client, plan, data)
    assert response.context["upload"].errors == {}
    assert response.status_code == 200, response.context["form"].errors
    assert "The figures below are from return.xlsx" in response.content.decode()


def test_the_checklist_says_nothing_of_schemes_without_a_forecast_when_there_are_none(
    client, tmp_path
):
    """Quarter 2 has a forecast for every scheme planned to spend: its check reads "Yes", and
    beside it "0 scheme(s) with a planned spend have no forecast: each counts at its plan."."""
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    book = _recalculated_return(client, plan, Q2, tmp_path)
    checks = {r[0]: (r[1], r[2]) for r in book["Checklist"].iter_rows(min_row=4, values_only=True)}
    met, says = checks["Every scheme planned to spend in the year has a forecast"]
    assert met == "Yes"
    assert not says.startswith("0 ")
    assert "(s)" not in says


# ---- The element paid for performance: the money ---------------------------------------------


def _terms(shares, lower=(True, True, False, True, False)):
    return [
        {"name": name, "share": Decimal(share), "lower_is_better": low}
        for name, share, low in zip(NATIONAL_METRICS, shares, lower, strict=True)
    ]


def _results(year, rows):
    """rows: (actual, projection) for each national measure, in order."""
    return {
        year: [
            {"name": name, "national": True, "actual": actual, "projection": projection}
            for name, (actual, projection) in zip(NATIONAL_METRICS, rows, strict=True)
        ]
    }


@pytest.mark.parametrize(
    "element, shares",
    [
        ("0.03", ("33.33", "33.33", "33.34", "0", "0")),
        ("0.01", ("33.33", "33.33", "33.34", "0", "0")),
        ("0.07", ("20", "20", "20", "20", "20")),
        ("1000000.01", ("33.33", "33.33", "33.34", "0", "0")),
        ("4800000", ("100", "0", "0", "0", "0")),
        ("999.99", ("0.01", "0.01", "0.01", "0.01", "99.96")),
    ],
)
def test_each_payment_adds_up_to_the_penny_earned_missed_and_unknown(element, shares):
    element = Decimal(element)
    d = Decimal
    # Met (lower is better, equal), missed, met (higher, equal), no actual, no projection.
    rows = [
        (d("5"), d("5")),
        (d("10"), d("9")),
        (d("85.5"), d("85.5")),
        (None, d("1")),
        (d(1), None),
    ]
    payments = performance_payments(
        element=element,
        year="2015/16",
        previous="2014/15",
        terms=_terms(shares),
        results={**_results("2015/16", rows), **_results("2014/15", rows)},
    )
    assert sum(p["amount"] for p in payments) == element
    for payment in payments:
        worths = [m["worth"] for m in payment["measures"]]
        assert sum(worths) == payment["amount"]
        assert payment["earned"] + payment["missed"] + payment["unknown"] == payment["amount"]
        assert all(w >= 0 and w == w.quantize(Decimal("0.01")) for w in worths)
        assert [m["achieved"] for m in payment["measures"]] == [True, False, True, None, None]
        worth = dict(zip(NATIONAL_METRICS, worths, strict=True))
        assert payment["earned"] == worth[NATIONAL_METRICS[0]] + worth[NATIONAL_METRICS[2]]
        assert payment["missed"] == worth[NATIONAL_METRICS[1]]
    if shares[0] == "100":
        assert payments[0]["measures"][0]["worth"] == payments[0]["amount"] == Decimal(2400000)


@pytest.mark.parametrize(
    "actual, projection, lower, met",
    [
        ("843.3", "843.3", True, True),
        ("843.3", "843.3", False, True),
        ("843.29", "843.3", True, True),
        ("843.31", "843.3", True, False),
        ("85.4", "85.5", False, False),
        ("0", "0", True, True),
        (None, "1", True, None),
        ("1", None, False, None),
    ],
)
def test_a_measure_at_its_projection_is_met_and_one_without_a_figure_is_not_yet_known(
    actual, projection, lower, met
):
    value = None if actual is None else Decimal(actual)
    target = None if projection is None else Decimal(projection)
    assert measure_achieved(value, target, lower) is met


def test_a_measure_not_in_the_plan_or_not_national_is_not_yet_known():
    rows = {
        "2015/16": [
            {
                "name": NATIONAL_METRICS[0],
                "national": False,
                "actual": Decimal(1),
                "projection": Decimal(2),
            }
        ]
    }
    (_, in_year) = performance_payments(
        element=Decimal("100"),
        year="2015/16",
        previous="2014/15",
        terms=_terms(("20",) * 5),
        results=rows,
    )
    assert [m["achieved"] for m in in_year["measures"]] == [None] * 5
    assert in_year["unknown"] == Decimal("50") and in_year["missed"] == 0


def test_a_penny_element_shows_its_halves_on_the_monitoring_page(client):
    plan = plymouth()
    Allocation.objects.filter(area=plan.area, round=plan.round, year=2015).update(
        performance_element=Decimal("0.03")
    )
    client.force_login(person("plymouth-chair"))
    text = " ".join(client.get(page(plan)).content.decode().split())
    assert "Of the 2015/16 allocation, £0.03 is paid for performance" in text
    # 2014/15: three of five met at 20% each, of £0.02 (the start-of-year half).
    # The pennies go to the first measures: delayed transfers (met) and emergency admissions.
    assert "(2014/15 figures): £0.01 of £0.02 earned" in text
    assert "(2015/16 figures): £0 of £0.01 earned" in text


# ---- The element paid for performance: the national admin's form ----------------------------


def _terms_posted(change: dict | None = None) -> dict:
    data = {"terms": "1"}
    for number in range(len(NATIONAL_METRICS)):
        data[f"share_{number}"] = "20"
        data[f"better_{number}"] = "lower" if number in (0, 1, 3) else "higher"
    return {**data, **(change or {})}


@pytest.mark.parametrize(
    "change, says",
    [
        ({"share_0": "NaN"}, "Delayed transfers of care: share must be a number"),
        ({"share_0": "Infinity"}, "Delayed transfers of care: share must be a number"),
        ({"share_0": "-20", "share_1": "60"}, "must be a percentage from 0 to 100"),
        ({"share_0": "120", "share_1": "-40"}, "must be a percentage from 0 to 100"),
        ({"share_0": "100.5"}, "must be a percentage from 0 to 100"),
        ({"share_0": "20.001"}, "at most 2 decimal places"),
        ({"share_0": "1e400"}, "Delayed transfers of care: share"),
        ({"share_0": ""}, "Delayed transfers of care: give its share of each payment"),
        ({"better_0": ""}, "Delayed transfers of care: say which way is better."),
        ({"better_0": "sideways"}, "Delayed transfers of care"),
        ({"share_4": "20\x00"}, "Patient and service-user experience"),
    ],
    ids=[
        "nan",
        "inf",
        "negative",
        "over",
        "over-100",
        "decimals",
        "exponent",
        "blank",
        "no-radio",
        "bad-radio",
        "nul",
    ],
)
def test_hostile_shares_are_refused_beside_their_field_and_nothing_saved(client, change, says):
    client.raise_request_exception = False
    client.force_login(person("national-admin"))
    data = _terms_posted(change)
    response = client.post(reverse("allocations"), data)
    text = response.content.decode()
    assert response.status_code in (200, 400), response.status_code
    assert says in text
    assert not PerformanceMeasure.objects.exists()


def test_a_missing_radio_keeps_the_others_typed(client):
    client.force_login(person("national-admin"))
    data = _terms_posted({"share_0": "40", "share_1": "0"})
    del data["better_2"]
    response = client.post(reverse("allocations"), data)
    form = response.context["terms"]
    assert "Effectiveness of reablement: say which way is better." in response.content.decode()
    assert form["share_0"].value() == "40" and form["better_0"].value() == "lower"
    assert not PerformanceMeasure.objects.exists()


def test_only_a_national_admin_sets_how_the_measures_count(client):
    data = _terms_posted(
        {"share_0": "100", "share_1": "0", "share_2": "0", "share_3": "0", "share_4": "0"}
    )
    for name in ("plymouth-admin", "plymouth-chair", "plymouth-finance", "plymouth-reviewer"):
        client.force_login(person(name))
        assert client.post(reverse("allocations"), data).status_code == 403
    client.logout()
    assert client.post(reverse("allocations"), data).status_code == 302
    assert not PerformanceMeasure.objects.exists()
    client.force_login(person("national-admin"))
    assert client.post(reverse("allocations"), data).status_code == 302
    assert PerformanceMeasure.objects.get(name=NATIONAL_METRICS[0]).share == 100


def test_shares_of_a_third_each_save_and_the_page_shows_them_as_typed(client):
    client.force_login(person("national-admin"))
    data = _terms_posted(
        {"share_0": "33.33", "share_1": "33.33", "share_2": "33.34", "share_3": "0", "share_4": "0"}
    )
    assert client.post(reverse("allocations"), data).status_code == 302
    client.force_login(person("plymouth-chair"))
    text = " ".join(client.get(page(plymouth())).content.decode().split())
    # £2.4m a half: £799,920, £799,920 and £800,160.
    assert "£799,920" in text and "£800,160" in text
    assert "33.34%" in text
    assert "0.00%" not in text  # a share of nothing reads 0%, as the default 20% does


# ---- The national composite's Monitoring sheet ----------------------------------------------


def _monitored(count: int, *, notices: bool, prefix="Monitored") -> list:
    """`count` more submitted areas, each sealed as Plymouth was, with a quarter 2 return whose
    Acute forecast is £n00,000 over its plan (area n), and Plymouth's notice if `notices`."""
    from governance.models import Seal, VarianceNotice
    from plans.constants import PlanState
    from plans.models import Plan
    from plans.services import plan_current_round
    from tests.factories import synthetic_areas

    source = plymouth()
    seal = submitted_seal(source)
    found = QuarterlyReturn.objects.get(plan=source, year="2015/16", quarter=2)
    notice = VarianceNotice.objects.get(plan=source)
    areas = synthetic_areas(count, plan_current_round(), prefix=prefix)
    acute = next(line for line in found.content["schemes"] if line["name"] == "Acute")
    for n, area in enumerate(areas):
        plan = Plan.objects.get(area=area)
        Seal.objects.create(
            plan=plan,
            number=1,
            snapshot=seal.snapshot,
            digest=f"{prefix[:4]}{n:060}",
            created_by=seal.created_by,
        )
        Plan.objects.filter(pk=plan.pk).update(state=PlanState.SUBMITTED)
        lines = [
            line
            if line is not acute
            else {**line, "forecast": str(Decimal(line["forecast"]) + 100000 * n - 1200000)}
            for line in found.content["schemes"]
        ]
        made = QuarterlyReturn.objects.create(
            plan=plan,
            year="2015/16",
            quarter=2,
            version=1,
            content={**found.content, "schemes": lines},
            updated_at=found.updated_at,
            updated_by=found.updated_by,
        )
        if notices:
            VarianceNotice.objects.create(
                **{
                    f.name: getattr(notice, f.name)
                    for f in VarianceNotice._meta.concrete_fields
                    if f.name not in ("id", "raised_at", "plan", "quarterly_return")
                },
                plan=plan,
                quarterly_return=made,
            )
    return areas


def _monitoring_sheet_rows(data: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(data))["Monitoring"]
    headers = [c.value for c in sheet[1]]
    return [dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(2, values_only=True)]


def test_the_monitoring_sheet_puts_the_largest_over_spend_first_and_blanks_a_missing_notice():
    from plans.exports.national import TOTALS_LABEL, national_workbook
    from plans.services import plan_current_round

    _monitored(4, notices=False)
    rows = _monitoring_sheet_rows(national_workbook(plan_current_round()))
    *areas, totals = rows
    over = "Forecast over-spend (an under-spend is negative)"
    assert [row[over] for row in areas] == sorted((row[over] for row in areas), reverse=True)
    # Area n forecasts Plymouth's over-spend less £1.2m, plus £100,000 n.
    assert [row["Area"] for row in areas] == [
        "Plymouth",
        "Monitored 003",
        "Monitored 002",
        "Monitored 001",
        "Monitored 000",
    ]
    quiet = next(row for row in areas if row["Area"] == "Monitored 000")
    assert quiet["Latest notice raised on"] in (None, "")
    assert quiet["Notice due to be acknowledged by"] in (None, "")
    assert quiet["Partners still to acknowledge"] in (None, "")
    assert totals["Area"] == TOTALS_LABEL


def test_the_national_composite_reads_the_same_queries_whatever_the_number_of_monitored_areas():
    from plans.exports.national import national_workbook
    from plans.services import plan_current_round

    _monitored(2, notices=True, prefix="Few")
    round_ = plan_current_round()
    with CaptureQueriesContext(connection) as few:
        national_workbook(round_)
    _monitored(20, notices=True, prefix="Many")
    with CaptureQueriesContext(connection) as many:
        data = national_workbook(round_)
    assert len(_monitoring_sheet_rows(data)) == 1 + 2 + 20 + 1  # Plymouth, the others, totals
    assert len(many) == len(few), (len(few), len(many))


# ---- Comments on a return --------------------------------------------------------------------

COMMENT = "comment-text"


def test_hostile_comments_are_refused_or_shown_as_text_never_a_server_error(client):
    plan = plymouth()
    url = page(plan, "return_comment", quarter=Q2)
    client.raise_request_exception = False
    client.force_login(person("plymouth-ccg-finance"))
    nul = client.post(url, {COMMENT: "a\x00b"})
    assert nul.status_code == 400, nul.status_code
    assert client.post(url, {COMMENT: "x" * 4999 + " " * 10}).status_code == 302
    assert client.post(url, {COMMENT: ["one", "two"]}).status_code in (302, 400)
    assert client.post(url, {}).status_code == 400
    script = client.post(url, {COMMENT: "<script>alert(1)</script>"}, follow=True)
    assert "<script>alert(1)</script>" not in script.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in script.content.decode()
    assert client.get(url).status_code == 405


def test_only_the_areas_members_comment_and_a_person_who_may_not_is_not_offered_the_box(client):
    plan = plymouth()
    url = page(plan, "return_comment", quarter=Q2)
    client.raise_request_exception = False
    for name in ("devon-admin", "walsall-finance"):
        client.force_login(person(name))
        assert client.post(url, {COMMENT: "From elsewhere"}).status_code == 404
    client.force_login(person("national-admin"))
    shown = client.get(return_url(plan, Q2))
    posted_ = client.post(url, {COMMENT: "From the centre"})
    if shown.status_code == 200 and "Post comment" in shown.content.decode():
        assert posted_.status_code == 302  # offered the box: the comment is taken
    else:
        assert posted_.status_code in (403, 404)
    assert not ReturnComment.objects.filter(text__in=["From elsewhere"]).exists()
    client.logout()
    assert client.post(url, {COMMENT: "Anonymous"}).status_code == 302
    assert not ReturnComment.objects.filter(text="Anonymous").exists()
