from datetime import date
from io import BytesIO, StringIO

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.utils.html import escape
from pypdf import PdfReader

from governance.constants import Role
from governance.models import Export, Membership
from governance.signoff import plan_approve, plan_submit_for_signoff, signature_add
from plans.models import Area, Plan
from plans.registry import PARTS
from plans.services import plan_current_round, plan_open
from tests.factories import PASSWORD, area_make, member_make, plan_make_ready

URL = "/areas/{}/plans/itf-2014/export.pdf"


def pages(response) -> list[str]:
    assert response["Content-Type"] == "application/pdf"
    return [page.extract_text() for page in PdfReader(BytesIO(response.content)).pages]


def pdf_download(client, url: str, run_tasks):
    """Ask for the PDF as a person does: the page says it is being prepared; the task worker
    prints it; the same address then downloads it."""
    waiting = client.get(url)
    assert waiting.status_code == 202
    assert "Preparing the PDF" in waiting.content.decode()
    run_tasks()
    return client.get(url)


def test_the_demos_board_papers_have_every_part_their_figures_and_their_state_on_every_page(
    client, db, settings, run_tasks
):
    """Southampton's demo plan is signed and approved: its paper says so on every page, with
    its seal, the Board's date and both signatures; Rotherham's is a draft and says that."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="southampton-reviewer"))
    text = pages(pdf_download(client, URL.format("southampton"), run_tasks))
    whole = "\n".join(text)
    for spec in PARTS:
        assert spec.title in whole
    assert "£17,285,000" in whole  # derived, not the paper's £17,258k
    plan = plan_open(area=Area.objects.get(slug="southampton"), round=plan_current_round())
    digest = plan.seals.get().digest
    for page in text:
        assert "Approved by the Health and Wellbeing Board" in page
        assert digest[:12] in page and "DRAFT" not in page
    assert f"Page 1 of {len(text)}" in text[0]
    assert "29/01/2014" in text[0]  # Date agreed at Health and Well-Being Board
    signoff = text[-1]
    assert "Authorisation and sign-off" in signoff
    assert "Director of People" in signoff and "Chief Officer" in signoff
    assert Export.objects.get().format == "pdf"

    client.force_login(get_user_model().objects.get(username="rotherham-reviewer"))
    text = pages(pdf_download(client, URL.format("rotherham"), run_tasks))
    assert all("DRAFT — not signed" in page for page in text)
    assert "Not yet set" in text[0]  # its 2014/15 minimum


def test_an_approved_plan_prints_its_seal_and_no_draft_mark(client, world, settings, run_tasks):
    plan = plan_open(area=world.area, round=plan_current_round())
    plan_make_ready(plan, world.commissioner)
    chair = member_make(world.area, Role.HWB_CHAIR)
    seal = plan_submit_for_signoff(plan=plan, user=world.commissioner)
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2")
    for membership in Membership.objects.filter(partnership__area=world.area, role=Role.SIGNATORY):
        signature_add(
            plan=plan,
            user=membership.user,
            organisation=membership.partnership.organisation,
            password=PASSWORD,
            position="Chief Officer",
            request=request,
        )
    plan_approve(
        plan=Plan.objects.get(pk=plan.pk),
        user=chair,
        password=PASSWORD,
        agreed_on=date(2014, 1, 22),
        request=request,
    )
    client.force_login(world.reviewer)
    text = pages(pdf_download(client, URL.format("southampton"), run_tasks))
    whole = "\n".join(text)
    assert seal.digest in whole.replace("\n", "")
    assert "DRAFT" not in whole
    assert "Approved by the Health and Wellbeing Board" in text[0]
    assert "Chief Officer" in text[-1] and "22/01/2014" in text[-1]


def test_an_outsider_gets_no_pdf(client, world):
    client.force_login(world.outsider)
    assert client.get(URL.format("southampton")).status_code == 404
    assert not Export.objects.exists()


@pytest.mark.parametrize("fmt", ["pdf"])
def test_the_command_line_writes_the_pdf(world, tmp_path, fmt):
    output = tmp_path / f"plan.{fmt}"
    call_command(
        "export_plan",
        "southampton",
        "--format",
        fmt,
        "--output",
        str(output),
        stdout=StringIO(),
    )
    assert PdfReader(output).pages


def test_the_board_paper_and_the_workbook_follow_the_templates_order(db):
    from plans.exports.template import sheets

    in_workbook = []
    for sheet in sheets(["2014/15"]):
        for item in sheet.items:
            if item.part not in in_workbook:
                in_workbook.append(item.part)
    assert in_workbook == [spec.key for spec in PARTS]  # the description's order
    from plans.exports.service import plan_print_html

    area = area_make("Leeds")
    plan = plan_open(area=area, round=plan_current_round())
    plan_make_ready(plan, member_make(area, Role.COMMISSIONER))
    html, _ = plan_print_html(plan)
    at = [html.index(f"<h2>{escape(spec.heading)}</h2>") for spec in PARTS]
    assert at == sorted(at)


def test_the_board_paper_reads_the_same_queries_with_300_schemes(
    world, django_assert_max_num_queries
):
    from finance.services import part_save
    from plans.exports.service import plan_print_html

    plan = plan_open(area=world.area, round=plan_current_round())
    with django_assert_max_num_queries(40) as few:
        plan_print_html(Plan.objects.get(pk=plan.pk))
    part = plan.parts.get(key="schemes")
    rows = [
        {"name": f"Scheme {i}", "scheme_type": "reablement", "spend": {"2015/16": "1000"}}
        for i in range(300)
    ]
    part_save(
        part=part,
        content={"rows": rows},
        status="in_progress",
        base_version=part.version,
        user=world.commissioner,
    )
    with django_assert_max_num_queries(len(few)):
        html, _ = plan_print_html(Plan.objects.get(pk=plan.pk))
    assert html.count("Scheme 299") == 1


def test_printing_past_its_limits_is_a_clear_page_and_records_nothing(
    client, world, monkeypatch, run_tasks
):
    from itf_portal import printing

    monkeypatch.setattr(printing, "PRINT_SECONDS", 0.01)  # no paper prints this fast
    client.force_login(world.reviewer)
    response = pdf_download(client, URL.format("southampton"), run_tasks)
    assert response.status_code == 503
    assert "The PDF of this plan could not be made" in response.content.decode()
    assert "longer than 0.01 seconds" in response.content.decode()
    assert not Export.objects.filter(format="pdf").exists()


def test_the_printer_runs_in_a_child_capped_in_memory(monkeypatch):
    import sys

    from django.contrib.staticfiles import finders

    from itf_portal import printing

    stylesheet = finders.find("print/plan.css")
    assert printing.pdf_print("<p>A short paper</p>", stylesheet).startswith(b"%PDF")
    monkeypatch.setattr(printing, "PRINT_MEMORY", 64 * 1024**2)  # less than a print needs
    with pytest.raises(printing.PrintFailed, match="memory"):
        printing.pdf_print("<p>" + "A long answer. " * 20_000 + "</p>", stylesheet)
    assert "weasyprint" not in sys.modules  # the worker itself never loaded it


def test_a_printer_past_the_memory_cap_is_stopped_where_the_kernel_does_not_cap_it(monkeypatch):
    import multiprocessing
    import subprocess
    import sys

    from itf_portal import printing

    monkeypatch.setattr(printing, "PRINT_MEMORY", 64 * 1024**2)
    hungry = subprocess.Popen(  # holds 200 MB resident, under no rlimit, and never answers
        [sys.executable, "-c", "import time; x = bytearray(200 * 1024**2); time.sleep(60)"]
    )
    receiver, sender = multiprocessing.Pipe(duplex=False)
    try:
        with pytest.raises(printing.PrintFailed, match="more than 64 MB of memory"):
            printing._wait_within_limits(hungry, receiver)
    finally:
        hungry.kill()
        hungry.wait()
        sender.close()
        receiver.close()


def _sealed(world):
    plan = plan_open(area=world.area, round=plan_current_round())
    plan_make_ready(plan, world.commissioner)
    plan_submit_for_signoff(plan=plan, user=world.commissioner)
    return Plan.objects.get(pk=plan.pk)


def _counting(monkeypatch, module, name: str) -> list:
    calls: list = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_sealed_plans_pdf_is_printed_once_and_kept_for_every_download(
    client, world, monkeypatch, run_tasks
):
    from governance.models import ExportFile
    from plans.exports import service

    prints = _counting(monkeypatch, service, "pdf_print")
    plan = _sealed(world)
    url = URL.format("southampton")
    client.force_login(world.reviewer)
    first = pdf_download(client, url, run_tasks)
    client.force_login(world.commissioner)
    second = client.get(url)  # no wait: the kept file is served at once
    assert second.status_code == 200 and second.content == first.content
    assert len(prints) == 1
    file = ExportFile.objects.get()
    assert (file.status, file.seal, file.html) == ("done", plan.seals.get().digest, "")
    downloads = Export.objects.filter(format="pdf").values_list("user__username", flat=True)
    assert sorted(downloads) == ["commissioner", "reviewer"]  # each download is still recorded

    # A signature changes the sign-off page, so the next ask prints again; the old file goes.
    signatory = Membership.objects.filter(partnership__area=world.area, role=Role.SIGNATORY)[0]
    signature_add(
        plan=plan,
        user=signatory.user,
        organisation=signatory.partnership.organisation,
        password=PASSWORD,
        position="Chief Officer",
        request=RequestFactory().post("/", REMOTE_ADDR="10.0.0.2"),
    )
    signed = pdf_download(client, url, run_tasks)
    assert "Chief Officer" in pages(signed)[-1]
    assert len(prints) == 2
    assert ExportFile.objects.get().status == "done"  # the unsigned one was let go


def test_two_asks_before_the_worker_runs_share_one_print_and_the_page_follows_it(
    client, world, run_tasks
):
    from django_tasks_db.models import DBTaskResult

    from governance.models import ExportFile

    url = URL.format("southampton")
    client.force_login(world.reviewer)
    assert client.get(url).status_code == 202
    assert client.get(url).status_code == 202
    assert ExportFile.objects.count() == 1 and DBTaskResult.objects.count() == 1
    assert client.get(url, HTTP_ACCEPT="application/json").json() == {
        "status": "printing",
        "reason": "",
    }
    run_tasks()
    assert client.get(url, HTTP_ACCEPT="application/json").json()["status"] == "done"
    assert client.get(url)["Content-Type"] == "application/pdf"


def test_a_draft_is_printed_again_once_it_changes(client, world, run_tasks):
    from finance.services import part_save
    from governance.models import ExportFile

    plan = plan_open(area=world.area, round=plan_current_round())
    url = URL.format("southampton")
    client.force_login(world.commissioner)
    pdf_download(client, url, run_tasks)
    part = plan.parts.get(key="vision")
    part_save(
        part=part,
        content={**part.content, "text": "Joined-up care, changed today."},
        status="in_progress",
        base_version=part.version,
        user=world.commissioner,
    )
    changed = pdf_download(client, url, run_tasks)
    assert "Joined-up care, changed today." in "\n".join(pages(changed))
    assert ExportFile.objects.get().seal == "draft"  # only the newest draft is kept


def test_a_print_whose_worker_died_is_printed_again_when_asked(client, world, run_tasks):
    from datetime import timedelta

    from django.utils import timezone

    from governance.models import ExportFile
    from plans.exports.service import PRINT_STALLED_AFTER

    url = URL.format("southampton")
    client.force_login(world.reviewer)
    assert client.get(url).status_code == 202
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the worker that took it was killed mid-print
    ExportFile.objects.update(updated_at=timezone.now() - PRINT_STALLED_AFTER - timedelta(1))
    assert client.get(url).status_code == 202  # asked again: queued again
    run_tasks()
    assert client.get(url)["Content-Type"] == "application/pdf"


def test_a_sealed_plans_workbook_is_made_once_and_a_drafts_each_time(client, world, monkeypatch):
    from governance.models import ExportFile
    from plans.exports import service

    made = _counting(monkeypatch, service, "plan_workbook")
    url = "/areas/southampton/plans/itf-2014/export.xlsx"
    client.force_login(world.reviewer)
    client.get(url)
    client.get(url)
    assert len(made) == 2 and not ExportFile.objects.exists()  # a draft is made afresh
    _sealed(world)
    first = client.get(url)
    again = client.get(url)
    assert len(made) == 3 and first.content == again.content
    assert ExportFile.objects.get().format == "xlsx"
    assert Export.objects.filter(format="xlsx").count() == 4
    # A release that changes the workbook's writer makes the sealed workbook afresh, once.
    monkeypatch.setattr(service, "WORKBOOK_WRITER", "a later release")
    client.get(url)
    client.get(url)
    assert len(made) == 4


def _rendered(pdf: bytes):
    """Each page of a PDF as an image (PDFium, as a viewer draws it), with its size in points."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    return [(page.render(scale=1).to_pil().convert("L"), page.get_size()) for page in document]


def _ink_in_the_right_margin(image, size) -> int:
    """How many dark pixels lie in the page's right margin, between the header and the footer:
    where a table or chart too wide for its page runs off."""
    width, height = size
    band = image.crop(
        (int(width - 12 * 72 / 25.4), int(20 * 72 / 25.4), int(width), int(height - 22 * 72 / 25.4))
    )
    return sum(band.histogram()[:200])


def test_every_page_keeps_its_tables_and_charts_within_the_page(world):
    from finance.services import part_save
    from plans.exports.service import plan_export_pdf

    plan = plan_open(area=world.area, round=plan_current_round())
    plan_make_ready(plan, world.commissioner)
    years = plan.round.year_labels
    lead = plan.partner_organisations[0]
    part = plan.parts.get(key="schemes")
    rows = [
        {
            "name": f"Integrated community health and care teams, locality {n}",
            "scheme_type": "other",
            "scheme_type_other": "Community-based health and social care (excluding acute)",
            "lead_commissioner": lead.pk,
            "provider": "Plymouth Community Healthcare Community Interest Company",
            "stream": "nhs",
            "outcomes": "Fewer emergency admissions; more people at home 91 days after discharge",
            "spend": dict.fromkeys(years, "184408000.00"),
            "benefits": dict.fromkeys(years, "12522000.00"),
        }
        for n in range(8)
    ]
    part_save(
        part=part,
        content={"rows": rows},
        status="complete",
        base_version=part.version,
        user=world.commissioner,
    )
    pdf, _ = plan_export_pdf(plan=Plan.objects.get(pk=plan.pk), user=None)
    pages = _rendered(pdf)
    assert any(size[0] > size[1] for _, size in pages)  # the schemes table has a landscape page
    assert [
        n for n, (image, size) in enumerate(pages, 1) if _ink_in_the_right_margin(image, size)
    ] == []


def test_the_board_paper_prints_the_templates_questions_and_lists_unstarted_parts_together(world):
    from plans.exports.service import plan_export_pdf

    plan = plan_open(area=world.area, round=plan_current_round())
    vision = plan.parts.get(key="vision")
    from finance.services import part_save

    part_save(
        part=vision,
        content={"text": "Joined-up care at home."},
        status="in_progress",
        base_version=0,
        user=world.commissioner,
    )
    pdf, _ = plan_export_pdf(plan=plan, user=None)
    text = [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]
    whole = "\n".join(text)
    assert len(text) <= 6  # not a page for each of the 16 parts nobody has started
    spec = next(s for s in PARTS if s.key == "vision")
    assert spec.words.split(".")[0] in whole.replace("\n", " ")  # the template's question
    assert all(point.split("?")[0][:40] in whole.replace("\n", " ") for point in spec.points)
    assert "Your answer" not in whole  # a form's label, not the template's words
    assert "Parts not yet started" in whole
    assert "Integration Aims & Objectives" in whole  # listed among them
    cover = text[0]
    for words in [
        "Date agreed at Health and Well-Being Board:",
        "Date submitted:",
        "Minimum required value of ITF pooled budget: 2014/15",
        "Total agreed value of pooled budget: 2015/16",
    ]:
        assert words in cover
    signoff = text[-1]
    assert "Signed on behalf of the Local Authority: Southampton Council" in signoff
    assert "By Chair of the HWB" in signoff
    assert signoff.count("—") == 1  # the page header's: an unsigned line is a line, not a dash


def test_the_page_header_names_the_plans_real_state():
    from plans.constants import PlanState
    from plans.exports.service import PRINT_MARK

    assert set(PRINT_MARK) == set(PlanState)
    assert "submitted" in PRINT_MARK[PlanState.SUBMITTED]
    assert "awaiting" in PRINT_MARK[PlanState.AWAITING_SIGNOFF]
    assert "DRAFT" in PRINT_MARK[PlanState.DRAFTING]
