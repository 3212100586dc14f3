"""The national composite: a row per area, built in the background, for national admins only."""

import io
import time
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from finance.models import Allocation
from governance.models import CompositeExport, Seal
from plans.constants import NATIONAL_METRICS, PartKey, PlanState
from plans.exports.national import TOTALS_LABEL, headers, national_workbook
from plans.models import Plan
from plans.services import plan_current_round
from tests.factories import synthetic_areas

URL = "/national/composite/"


def rows(data: bytes) -> list[dict]:
    """A row per area (the header's names as keys); the national totals row is left out."""
    sheet = load_workbook(BytesIO(data))["Areas"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[-1][0] == TOTALS_LABEL
    return [dict(zip(values[0], row, strict=True)) for row in values[1:-1]]


def test_the_composite_reads_as_an_analysts_workbook_and_its_totals_recalculate(world, tmp_path):
    from tests.libreoffice import recalculated

    planning_round = plan_current_round()
    years = planning_round.year_labels
    synthetic_areas(5, planning_round)
    path = tmp_path / "composite.xlsx"
    path.write_bytes(national_workbook(planning_round))
    sheet = load_workbook(path)["Areas"]
    header = [c.value for c in sheet[1]]
    pooled = header.index(f"Pooled budget {years[1]}") + 1
    schemes = header.index("Number of schemes") + 1
    last = sheet.max_row
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{last - 1}"
    assert sheet.cell(2, pooled).number_format == "£#,##0.00"  # never 4.21E+08
    assert sheet.column_dimensions[sheet.cell(1, pooled).column_letter].width >= 16
    total = sheet.cell(last, pooled)
    assert total.value.startswith("=SUBTOTAL(109,") and sheet.cell(last, 1).value == TOTALS_LABEL
    book = load_workbook(recalculated([path], tmp_path) / path.name, data_only=True)
    again = book["Areas"]
    areas = [again.cell(r, pooled).value for r in range(2, last)]
    assert again.cell(last, pooled).value == sum(areas) == 2 * sum(1000 * n for n in range(1, 6))
    assert again.cell(last, schemes).value == 3 * 5 + 0 + 0  # the world's two areas have none
    # Every partner's contributions, a line each, for pivoting; the local measures on their own.
    lines = list(book["Contributions"].iter_rows(values_only=True))
    assert lines[0] == ("Area", "Partner", "Partner type", "Funding stream", "Year", "Amount")
    assert lines[1][:3] == ("Area 000", "Area 000 Council", "Local authority")
    assert sum(line[5] for line in lines[1:]) == sum(
        again.cell(r, header.index(f"Pooled budget {year}") + 1).value
        for r in range(2, last)
        for year in years
    )
    assert list(book["Local metrics"].iter_rows(values_only=True))[0][:2] == (
        "Area",
        "Outcome measure",
    )


def test_the_composite_has_a_row_for_each_of_151_areas_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    planning_round = plan_current_round()
    years = planning_round.year_labels
    areas = synthetic_areas(151, planning_round)
    Allocation.objects.create(
        area=areas[7], round=planning_round, year=planning_round.first_year, minimum=Decimal(5000)
    )
    # A plan past Drafting shows what was sealed, not its draft (its money, in the fund's
    # tables, cannot change once sealed; its measures are read from the seal).
    sealed = Plan.objects.get(area=areas[3])
    metric = {"name": NATIONAL_METRICS[0], "national": True, "baseline": "77"}
    snapshot_parts = {PartKey.METRICS: {"content": {"rows": [metric]}}}
    Seal.objects.create(
        plan=sealed,
        number=1,
        snapshot={"parts": snapshot_parts},
        digest="a" * 64,
        created_by=world.national,
    )
    sealed.state = PlanState.AWAITING_SIGNOFF
    sealed.save()
    with django_assert_max_num_queries(48):  # 4 batches of 50, each a fixed dozen
        data = national_workbook(planning_round)
    found = rows(data)
    assert len(found) == 151 + 2  # and the two areas of the `world` fixture, then the totals
    assert list(found[0]) == headers(years)
    by_name = {row["Area"]: row for row in found}
    tenth = by_name["Area 009"]
    assert tenth["Local authority"] == "Area 009 Council"
    assert tenth["Clinical commissioning groups"] == "NHS Area 009 CCG"
    assert tenth[f"Pooled budget {years[0]}"] == 20000  # council and CCG, £10,000 each
    assert tenth[f"Existing NHS transfer to social care (section 256) {years[1]}"] == 10000
    assert tenth["Number of schemes"] == 3
    assert tenth[f"Scheme net spend {years[0]}"] == 10000  # two schemes less one income line
    assert tenth[f"{NATIONAL_METRICS[0]}: Current baseline"] == 109
    assert tenth[f"{NATIONAL_METRICS[4]}: {years[1]} projected delivery"] == 99
    assert by_name["Area 007"][f"Minimum {years[0]}"] == 5000
    assert by_name["Area 003"]["Figures from"].startswith("Sealed version aaaaaaaaaaaa")
    assert by_name["Area 003"][f"{NATIONAL_METRICS[0]}: Current baseline"] == 77
    assert by_name["Area 003"][f"Pooled budget {years[0]}"] == 8000
    assert by_name["Area 003"]["Plan state"] == "Awaiting sign-off"
    assert by_name["Southampton"]["Plan state"] == "Drafting"  # made with the area


def test_names_that_look_like_formulas_stay_text(world):
    world.area.name = '=HYPERLINK("http://evil.example")'
    world.area.save()
    sheet = load_workbook(BytesIO(national_workbook(plan_current_round())))["Areas"]
    cell = next(c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYP"))
    assert cell.data_type == "s"


def test_only_national_admins_reach_the_composite(client, world):
    job = CompositeExport.objects.create(round=plan_current_round(), status="done", data=b"x")
    for user in (world.admin, world.commissioner, world.outsider, world.nobody):
        client.force_login(user)
        for url in (URL, f"{URL}{job.pk}/", f"{URL}{job.pk}/download/"):
            assert client.get(url).status_code == 403
        assert client.post(URL).status_code == 403
    assert CompositeExport.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_national_admin_builds_it_in_the_background_and_downloads_it(
    client, world, worker_process
):
    synthetic_areas(60, plan_current_round())
    client.force_login(world.national)
    response = client.post(URL)
    assert response.status_code == 302
    build = response["Location"]
    page = client.get(build)
    assert b"composite-progress" in page.content
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(build, HTTP_ACCEPT="application/json").json()
        if status["status"] != "building":
            break
        time.sleep(0.2)
    assert status == {"status": "done", "done": 62, "total": 62, "percent": 100}
    response = client.get(f"{build}download/")
    assert response["Content-Disposition"].startswith('attachment; filename="itf-composite-')
    assert len(rows(response.content)) == 62
    job = CompositeExport.objects.get()
    assert job.user == world.national and job.finished_at is not None
    assert b"Ready (62 areas)" in client.get(URL).content


def test_the_command_writes_the_composite(world, tmp_path):
    path = tmp_path / "composite.xlsx"
    out = io.StringIO()
    call_command("export_national", "--output", str(path), stdout=out, stderr=io.StringIO())
    assert "2 areas" in out.getvalue()
    assert [row["Area"] for row in rows(path.read_bytes())] == ["Rotherham", "Southampton"]
    assert CompositeExport.objects.get().status == CompositeExport.DONE


def test_a_second_click_follows_the_build_already_running(client, world):
    client.force_login(world.national)
    # No worker runs in this test: the first build stays queued, still building.
    first = client.post(URL)["Location"]
    assert client.post(URL)["Location"] == first
    assert CompositeExport.objects.count() == 1


def test_the_database_holds_one_build_at_a_time_and_a_stalled_one_gives_way(world):
    from datetime import timedelta

    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from plans.exports.national import composite_start

    first = composite_start(user=world.national, round_=plan_current_round())
    with pytest.raises(IntegrityError), transaction.atomic():
        CompositeExport.objects.create(round=plan_current_round())  # as a second host would
    # Its worker died: after ten minutes without progress, a new click starts afresh.
    CompositeExport.objects.filter(pk=first.pk).update(
        updated_at=timezone.now() - timedelta(minutes=11)
    )
    second = composite_start(user=world.national, round_=plan_current_round())
    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.status == CompositeExport.FAILED and "stopped" in first.error
