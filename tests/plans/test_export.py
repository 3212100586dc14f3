from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from finance.rules import pooled_budget
from finance.services import part_save
from governance.models import Export
from governance.signoff import plan_submit_for_signoff
from plans.exports.service import plan_export_xlsx
from plans.services import plan_current_round, plan_open
from tests.factories import plan_make_ready

URL = "/areas/southampton/plans/itf-2014/export.xlsx"
SHEETS = [
    "Cover",
    "Narrative",
    "National Conditions",
    "Outcomes and metrics",
    "Pooled fund contributions",
    "Pooled fund arrangements",
    "Pooled budget schemes",
    "Health and care spend",
    "Contingency plan",
    "Key risks",
    "Checklist",
]


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


def save(plan, key, content, user):
    part = plan.parts.get(key=key)
    part_save(
        part=part, content=content, status="in_progress", base_version=part.version, user=user
    )


def workbook(response):
    return load_workbook(BytesIO(response.content))


def cells(sheet):
    return [cell for row in sheet.iter_rows() for cell in row if cell.value not in (None, "")]


def test_the_workbook_has_the_templates_sheets_labels_and_the_plans_values(client, world, plan):
    save(plan, "vision", {"text": "People live well at home."}, world.commissioner)
    save(
        plan,
        "data_sharing",
        {"nhs_number_used": "no", "nhs_number_by": "2015-03-31"},
        world.commissioner,
    )
    client.force_login(world.reviewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert "itf-plan-southampton-itf-2014-draft.xlsx" in response["Content-Disposition"]
    book = workbook(response)
    assert [ws.title for ws in book if ws.sheet_state == "visible"] == SHEETS
    assert book.sheetnames == [*SHEETS, "Lists"]  # the dropdowns' labels, hidden
    values = {str(c.value) for sheet in book for c in cells(sheet)}
    for label in [
        "Vision for Health and Care Services",
        "NHS Number is the primary identifier",
        "Delayed transfers of care",
        "Minimum required value of ITF pooled budget: 2015/16",
        "Draft: not signed",
    ]:
        assert label in values
    assert "People live well at home." in values
    national = book["National Conditions"]
    answer = next(c for c in cells(national) if c.value == "No")
    assert answer.fill.fgColor.rgb.endswith("FFF2CC")  # an input cell, yellow
    assert national.freeze_panes == "A3"
    assert Export.objects.get().seal == "draft"


def test_totals_are_live_formulas_over_the_figures_the_app_derives(client, world, plan):
    ccg = plan.area.partners.get(kind="ccg")
    amounts = [
        {
            "organisation": ccg.pk,
            "organisation_name": ccg.name,
            "stream": s,
            "year": "2015/16",
            "amount": a,
        }
        for s, a in [("s256", "3971000.00"), ("carers", "601000.00"), ("nhs", "8783000.00")]
    ]
    save(plan, "contributions", {"amounts": amounts}, world.commissioner)
    client.force_login(world.reviewer)
    sheet = workbook(client.get(URL))["Pooled fund contributions"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "Partner")
    total = next(i for i, row in enumerate(rows) if row[0] == "Total")
    figures = [Decimal(str(row[3])) for row in rows[header + 1 : total]]
    expected = pooled_budget({"amounts": amounts}, ["2015/16"])["2015/16"]
    assert sum(figures) == expected == Decimal("13355000")
    assert rows[total][3] == f"=SUM(D{header + 1}:INDEX(D:D,ROW()-1))"


def test_an_empty_table_keeps_a_blank_row_so_its_total_never_sums_itself(client, world, plan):
    client.force_login(world.reviewer)
    sheet = workbook(client.get(URL))["Pooled budget schemes"]
    rows = list(sheet.iter_rows(values_only=True))
    total = next(i for i, row in enumerate(rows) if row[0] == "Total")
    assert all(value in (None, "") for value in rows[total - 1])  # blank, under the headings
    assert rows[total - 2][0] == "Scheme"
    # I is the first year's spend, net of income lines (a Yes in H); the total is row total + 1.
    flags, spend = f"H{total - 1}:INDEX(H:H,ROW()-1)", f"I{total - 1}:INDEX(I:I,ROW()-1)"
    net = f'=SUMIF({flags},"<>Yes",{spend})'
    assert rows[total][8] == f'{net}-SUMIF({flags},"Yes",{spend})'
    assert rows[total][9] == f"=SUM(J{total - 1}:INDEX(J:J,ROW()-1))"  # its benefits


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://evil.example","click")', "+1", "-1+1", "@SUM(1)"]
)
def test_user_text_never_becomes_a_formula(client, world, plan, text):
    save(plan, "vision", {"text": text}, world.commissioner)
    client.force_login(world.reviewer)
    narrative = workbook(client.get(URL))["Narrative"]
    cell = next(c for c in cells(narrative) if c.value == text)
    assert cell.data_type == "s"


def test_an_organisations_name_never_becomes_a_formula_in_any_sheet(client, world, plan):
    name = '=HYPERLINK("http://evil.example","NHS Evil CCG")'
    ccg = world.area.partners.get(kind="ccg")
    ccg.name = name
    ccg.save()
    client.force_login(world.reviewer)
    book = workbook(client.get(URL))
    found = [c for ws in book.worksheets for c in cells(ws) if name in str(c.value or "")]
    sheets = {c.parent.title for c in found}
    assert {"Cover", "Checklist"} <= sheets  # the partner's line and "… has a signatory"
    assert all(c.data_type == "s" for c in found)


def test_an_outsider_cannot_export_and_nothing_is_logged(client, world, plan):
    client.force_login(world.outsider)
    assert client.get(URL).status_code == 404
    client.logout()
    assert client.get(URL).status_code == 302
    assert not Export.objects.exists()


def test_a_plan_awaiting_sign_off_exports_its_sealed_version(client, world, plan):
    plan_make_ready(plan, world.commissioner)
    seal = plan_submit_for_signoff(plan=plan, user=world.commissioner)
    client.force_login(world.reviewer)
    response = client.get(URL)
    cover = {str(c.value) for c in cells(workbook(response)["Cover"])}
    assert f"Seal: {seal.digest}" in cover
    assert "Authorisation and Sign Off" in cover  # the template's words
    assert (
        "Signed on behalf of the Health & Wellbeing Board: Southampton Health and Wellbeing Board"
        in cover
    )
    assert "By Chair of the HWB" in cover
    checklist = workbook(response)["Checklist"]
    answers = [row[1] for row in checklist.iter_rows(min_row=5, values_only=True) if row[0]]
    # The money checks are live formulas of the workbook's totals and minimums (their values are
    # worked out by a spreadsheet: tests/plans/test_recalc.py); the others say what was found.
    live = [answer for answer in answers if answer.startswith("=IF(")]
    assert len(live) == 4  # the pool and the schemes' spend against the minimum, each year
    assert answers and set(answers) - set(live) == {"Yes"}
    assert Export.objects.get().seal == seal.digest


def test_the_export_does_the_same_queries_with_300_schemes(
    client, world, plan, django_assert_max_num_queries
):
    client.force_login(world.reviewer)
    with django_assert_max_num_queries(30) as few:
        client.get(URL)
    rows = [
        {"name": f"Scheme {i}", "scheme_type": "reablement", "spend": {"2015/16": "1000"}}
        for i in range(300)
    ]
    save(plan, "schemes", {"rows": rows}, world.commissioner)
    with django_assert_max_num_queries(len(few)):
        response = client.get(URL)
    book = workbook(response)
    sheet = book["Pooled budget schemes"]
    assert (
        sum(1 for row in sheet.iter_rows(values_only=True) if str(row[0]).startswith("Scheme "))
        == 300
    )
    # A table over many pages repeats its headings on each; a sheet that fits one page does not.
    header = next(c.row for c in sheet["A"] if c.value == "Scheme")
    assert sheet.print_title_rows == f"${header}:${header}"
    assert not book["Narrative"].print_title_rows


def test_the_command_line_writes_the_workbook(world, plan, tmp_path):
    output = tmp_path / "plan.xlsx"
    call_command("export_plan", "southampton", "--output", str(output), stdout=StringIO())
    assert load_workbook(output).sheetnames[: len(SHEETS)] == SHEETS
    with pytest.raises(CommandError, match="No area"):
        call_command("export_plan", "nowhere", "--output", str(output))


def test_the_export_link_is_on_the_plan_page(client, world, plan):
    client.force_login(world.reviewer)
    page = client.get(
        reverse("task_list", kwargs={"slug": "southampton", "round_slug": "itf-2014"})
    )
    assert URL in page.content.decode()


def test_yes_no_cells_have_a_dropdown_and_amounts_the_template_bound(client, world, plan):
    client.force_login(world.reviewer)
    book = workbook(client.get(URL))

    def rules_for(sheet, coordinate):
        return [v for v in sheet.data_validations.dataValidation if coordinate in v.sqref]

    national = book["National Conditions"]
    label = next(c for c in cells(national) if c.value == "NHS Number is the primary identifier")
    [dropdown] = rules_for(national, f"B{label.row}")
    assert dropdown.type == "list" and dropdown.formula1 == '"Yes,No"'
    contributions = book["Pooled fund contributions"]
    header = next(c for c in cells(contributions) if c.value == "Partner")
    for row in range(header.row + 1, header.row + 8):
        [bound] = rules_for(contributions, f"C{row}")
        assert (bound.type, bound.formula1, bound.formula2) == ("decimal", "0", "10000000000")
    # The total row is derived: no bound on it.
    total = next(c for c in cells(contributions) if c.value == "Total")
    assert rules_for(contributions, f"C{total.row}") == []


def test_every_label_of_the_template_and_every_value_of_a_seed_plan_is_in_the_workbook(db):
    from io import StringIO as Out

    from finance.services import plan_snapshot_now
    from plans.exports.template import (
        Heading,
        Subtotals,
        Table,
        Value,
        Words,
        normal,
        sheets,
        value_of,
    )
    from plans.models import Area

    call_command("load_demo", stdout=Out())
    plan = plan_open(area=Area.objects.get(slug="walsall"), round=plan_current_round())
    snapshot = plan_snapshot_now(plan, 0)
    book = load_workbook(BytesIO(plan_export_xlsx(plan=plan, user=None)[0]))
    checked = 0
    for sheet in sheets(plan.round.year_labels, plan.round.baseline_label):
        ws = book[sheet.name]
        rows = [list(row) for row in ws.iter_rows(values_only=True)]
        column_a = [row[0] for row in rows]
        for item in sheet.items:
            if isinstance(item, (Heading, Words)):
                assert item.text in column_a  # the template's question and guidance too
            elif isinstance(item, Value):
                row = rows[column_a.index(item.label)]
                assert normal(item.kind, row[1]) == normal(item.kind, value_of(snapshot, item))
                checked += 1
            elif isinstance(item, Subtotals):  # a row per value, each amount a formula
                start = column_a.index(item.title) + 1
                values = column_a[start + 1 : start + 1 + len(item.values(snapshot))]
                assert values == item.values(snapshot) and values
                assert all(str(v).startswith("=SUMIF") for v in rows[start + 1][1:3])
                assert ws.row_dimensions[start + 2].height is None  # a formula is no text
            else:
                assert isinstance(item, Table)
                start = column_a.index(item.title, 2) + 1  # A1 may hold the same name
                assert rows[start][: len(item.columns)] == [c.header for c in item.columns]
                for offset, record in enumerate(item.rows(snapshot), start=1):
                    cells = rows[start + offset]
                    for number, column in enumerate(item.columns):
                        expected = normal(column.kind, record.get(column.key, ""))
                        assert normal(column.kind, cells[number]) == expected
                        checked += 1
    assert checked > 250  # Walsall: ten schemes, the contributions grid, metrics, risks, text


def test_scheme_and_risk_columns_offer_dropdowns_of_the_templates_labels(db):
    from io import StringIO as Out

    from plans.models import Area

    call_command("load_demo", stdout=Out())
    plan = plan_open(area=Area.objects.get(slug="walsall"), round=plan_current_round())
    book = load_workbook(BytesIO(plan_export_xlsx(plan=plan, user=None)[0]))
    lists = book["Lists"]
    schemes = book["Pooled budget schemes"]
    header = next(r for r in schemes.iter_rows() if r[0].value == "Scheme")
    first = header[0].row + 1

    def dropdown(ws, coordinate):
        [rule] = [v for v in ws.data_validations.dataValidation if coordinate in v.sqref]
        sheet, cells = rule.formula1.split("!")
        start, end = cells.replace("$", "").split(":")
        labels = [c.value for row in lists[start:end] for c in row]
        return labels, rule.showErrorMessage

    types, strict = dropdown(schemes, f"B{first}")
    assert "Reablement" in types and "Other, please describe" in types and strict
    leads, strict = dropdown(schemes, f"D{first}")
    assert leads == [o.name for o in plan.partner_organisations] and strict
    streams, _ = dropdown(schemes, f"F{first}")
    assert "Capital, of which Disabled Facilities Grant" in streams  # a label with a comma
    plymouth = plan_open(area=Area.objects.get(slug="plymouth"), round=plan_current_round())
    book = load_workbook(BytesIO(plan_export_xlsx(plan=plymouth, user=None)[0]))
    lists = book["Lists"]
    risks = book["Key risks"]
    risk_header = next(r for r in risks.iter_rows() if r[0].value == "Risk")
    assert dropdown(risks, f"B{risk_header[0].row + 1}")[0] == ["High", "Medium", "Low"]


def test_an_amount_nobody_gave_stays_blank_and_an_unedited_export_imports_as_no_change(
    client, world, plan
):
    from plans.exports.importer import import_preview

    client.force_login(world.reviewer)
    data = client.get(URL).content
    sheet = load_workbook(BytesIO(data))["Pooled fund arrangements"]
    row = next(
        r for r in sheet.iter_rows() if r[0].value == "Materiality threshold for changes (a year)"
    )
    assert row[1].value in (None, "")  # not £0.00: the threshold is not set yet
    assert import_preview(plan=plan, user=world.admin, data=data).parts == []


def test_the_workbook_reads_and_prints_whole_in_the_templates_words(world, tmp_path):
    """Every wrapped answer has a row tall enough to show it, every part carries the template's
    question and guidance, the Cover's totals are live formulas of the contributions' total,
    and no sheet needs shrinking below about 8 pt to fit A4."""
    import pypdfium2 as pdfium

    from plans.exports.excel import PRINT_WIDTH
    from plans.exports.reader import read_workbook
    from plans.registry import PARTS
    from plans.template import TEXT_LIMIT
    from tests.libreoffice import recalculated

    plan = plan_open(area=world.area, round=plan_current_round())
    plan_make_ready(plan, world.commissioner)
    vision = plan.parts.get(key="vision")
    long = "Joined-up care at home, planned with the people who use it. " * 40
    part_save(
        part=vision,
        content={"text": long},
        status="complete",
        base_version=vision.version,
        user=world.commissioner,
    )
    # The longest answer a field takes, in paragraphs: more lines than the tallest row holds.
    governance = plan.parts.get(key="governance")
    longest = "\n".join(
        f"Paragraph {n}: " + "The board meets monthly to review the pooled fund. " * 8
        for n in range(1, 100)
    )[: TEXT_LIMIT - 40]
    longest += " The last words of the longest answer."
    part_save(
        part=governance,
        content={"text": longest},
        status="complete",
        base_version=governance.version,
        user=world.commissioner,
    )
    path = tmp_path / "plan.xlsx"
    path.write_bytes(plan_export_xlsx(plan=plan, user=None)[0])
    book = load_workbook(path)
    everything = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row)
    for spec in PARTS:
        if spec.in_template and spec.words:
            assert spec.words in everything, spec.key
            assert all(point in everything for point in spec.points), spec.key
    narrative = book["Narrative"]
    answer = next(c for c in cells(narrative) if c.value == long)
    assert narrative.row_dimensions[answer.row].height >= 15 * 2400 / 130  # some 18 lines
    # The longest answer goes on over rows (a row holds at most 409 pt), each tall enough for
    # its piece; it is read back whole, also once LibreOffice has saved it, and printed whole.
    start = next(c.row for c in narrative["A"] if c.value == "Governance")
    pieces = [narrative.cell(start, 2).value]
    while (
        narrative.cell(start + len(pieces), 2).value
        and not narrative.cell(start + len(pieces), 1).value
    ):
        pieces.append(narrative.cell(start + len(pieces), 2).value)
    assert len(pieces) >= 3 and "".join(pieces).replace("\n", "") == longest.replace("\n", "")
    for number, piece in enumerate(pieces, start=start):
        lines = sum(-(-len(paragraph) // 132) for paragraph in piece.split("\n"))
        assert 15 * lines <= narrative.row_dimensions[number].height <= 409
    read = read_workbook(path.read_bytes(), years=plan.round.year_labels, baseline="2013/14")
    assert read.values[("Narrative", "Governance")][0] == longest
    saved = (recalculated([path], tmp_path / "saved") / "plan.xlsx").read_bytes()
    read = read_workbook(saved, years=plan.round.year_labels, baseline="2013/14")
    assert read.values[("Narrative", "Governance")][0] == longest
    printed = pdfium.PdfDocument(recalculated([path], tmp_path / "print", to="pdf") / "plan.pdf")
    text = ""
    for page in printed:
        characters = page.get_textpage()
        text += characters.get_text_range() + " "
        width, height = page.get_size()
        boxes = [characters.get_charbox(n) for n in range(characters.count_chars())]
        outside = [b for b in boxes if b[1] < 0 or b[3] > height or b[0] < 0 or b[2] > width]
        assert not outside, "text printed beyond the page: a cell is cut"
    assert "The last words of the longest answer." in " ".join(text.split())
    for ws in book:
        if ws.sheet_state == "visible":
            assert sum(d.width for d in ws.column_dimensions.values()) <= PRINT_WIDTH, ws.title
            assert ws.print_options.gridLines is False and "&P of &N" in ws.oddFooter.right.text
    cover = book["Cover"]
    total = next(c for c in cells(cover) if str(c.value).startswith("Total agreed value"))
    formula = cover.cell(total.row, 2).value
    assert formula.startswith("='Pooled fund contributions'!$")
    again = load_workbook(recalculated([path], tmp_path) / path.name, data_only=True)["Cover"]
    assert again.cell(total.row, 2).value == 1000  # plan_make_ready's £1,000 a year
