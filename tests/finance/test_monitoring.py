"""In-year monitoring: quarterly returns of a submitted plan, their variances split by the risk
share, and the pool manager's notices (the demo's Plymouth, as `make run` loads it)."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from finance.models import QuarterlyReturn
from finance.monitoring_forms import ReturnForm
from finance.rules import notice_needed, return_figures, risk_share_split
from governance.constants import Role
from governance.models import NoticeAcknowledgement, VarianceNotice
from governance.monitoring import (
    figures_for,
    notice_acknowledge,
    plan_quarters,
    quarter_find,
    return_confirm,
    return_digest,
    return_note,
    return_refusal,
    return_save,
    submitted_seal,
)
from itf_portal.forms import form_data
from plans.models import Area, Plan
from tests.factories import member_make

User = get_user_model()


@pytest.fixture(autouse=True)
def demo(submitted_demo, db):
    """The demo as `make run` loads it; each test's changes rolled back after it."""


def person(name: str):
    return User.objects.get(username=name)


def plymouth() -> Plan:
    return Plan.objects.select_related("area", "round").get(area__slug="plymouth")


def page(plan, name="monitoring", **kwargs):
    return reverse(name, kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, **kwargs})


def return_url(plan, slug):
    return page(plan, "quarterly_return", quarter=slug)


def posted(plan, slug, change: dict | None = None) -> dict:
    """What the return's page posts as it is drawn now, with `change` typed over it."""
    quarter = quarter_find(plan, slug)
    found = QuarterlyReturn.objects.filter(
        plan=plan, year=quarter.year_label, quarter=quarter.quarter
    ).first()
    content, version = (found.content, found.version) if found else ({}, 0)
    figures = figures_for(submitted_seal(plan), quarter.year_label, content)
    data = form_data(ReturnForm(figures=figures, content=content, version=version))
    return {**data, **(change or {})}


def test_the_demo_pool_forecasts_the_seeds_over_spend_split_75_25_with_one_acknowledgement_pending(
    client,
):
    plan = plymouth()
    assert QuarterlyReturn.objects.filter(plan=plan).count() == 3  # 2014/15 Q4, 2015/16 Q1, Q2
    (notice,) = VarianceNotice.objects.filter(plan=plan)
    assert notice.overspend == Decimal("26742000")
    assert (notice.year, notice.quarter) == ("2015/16", 1)
    # Ten working days after Monday 20 July 2015.
    assert (notice.raised_on, notice.due_on) == (date(2015, 7, 20), date(2015, 8, 3))
    bears = {row["name"]: Decimal(row["bears"]) for row in notice.shares}
    assert bears == {
        "NHS Northern, Eastern and Western Devon CCG": Decimal("20056500"),
        "Plymouth City Council": Decimal("6685500"),
    }
    assert [a.organisation.name for a in notice.acknowledgements.all()] == ["Plymouth City Council"]

    client.force_login(person("plymouth-reviewer"))
    response = client.get(page(plan))
    text = response.content.decode()
    assert response.status_code == 200
    assert "A forecast over-spend of £26,742,000 in 2015/16" in text
    assert "Monday 3 August 2015" in text and "Overdue" in text
    assert "£20,056,500" in text and "£6,685,500" in text
    # The latest return's figures for the year: the plan's net spend against the pool.
    assert "An over-spend of £26,742,000" in text
    assert "£448,223,000" in text and "£421,481,000" in text
    assert ">Acknowledge<" not in text  # a reviewer answers for no partner


def test_the_partner_still_to_acknowledge_is_asked_on_its_dashboard_and_acknowledges_once(client):
    plan = plymouth()
    signatory = person("plymouth-ccg-signatory")
    client.force_login(signatory)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Acknowledge the Plymouth pool manager&#x27;s notice for NHS Northern" in dashboard
    assert "due 3 August 2015" in dashboard
    notice = VarianceNotice.objects.get(plan=plan)
    ccg = plan.area.partners.get(name="NHS Northern, Eastern and Western Devon CCG")
    url = page(plan, "notice_acknowledge", pk=notice.pk, organisation_id=ccg.pk)
    response = client.post(url, follow=True)
    assert (
        "Acknowledged for NHS Northern, Eastern and Western Devon CCG." in response.content.decode()
    )
    again = client.post(url, follow=True)
    assert "had already acknowledged this notice" in again.content.decode()
    assert NoticeAcknowledgement.objects.filter(notice=notice).count() == 2
    assert "Acknowledge the Plymouth" not in client.get(reverse("dashboard")).content.decode()


def test_nobody_acknowledges_for_a_partner_they_do_not_answer_for(client):
    plan = plymouth()
    notice = VarianceNotice.objects.get(plan=plan)
    ccg = plan.area.partners.get(kind="ccg")
    council = plan.area.partners.get(kind="la")
    # The council's finance lead, and the CCG's reviewer, cannot acknowledge for the CCG.
    for name in ("plymouth-finance", "plymouth-reviewer"):
        with pytest.raises(PermissionDenied):
            notice_acknowledge(notice=notice, organisation=ccg, user=person(name))
    client.force_login(person("plymouth-finance"))
    url = page(plan, "notice_acknowledge", pk=notice.pk, organisation_id=ccg.pk)
    assert client.post(url).status_code == 403
    # Another area's admin does not see the plan at all.
    client.force_login(person("devon-admin"))
    assert client.post(url).status_code == 404
    assert client.get(page(plan)).status_code == 404
    assert not NoticeAcknowledgement.objects.filter(notice=notice, organisation=ccg).exists()
    _, new = notice_acknowledge(notice=notice, organisation=council, user=person("plymouth-admin"))
    assert not new  # the council acknowledged already: the first stands


def test_a_finance_lead_records_a_quarter_and_sees_its_variance(client):
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    slug = "2015-16-q3"
    response = client.get(return_url(plan, slug))
    assert response.status_code == 200
    assert "Not recorded yet" in response.content.decode()
    # Acute forecast £300,000 over its plan: within the threshold of a new notice.
    acute = next(
        row
        for row in figures_for(submitted_seal(plan), "2015/16", {})["schemes"]
        if row["name"] == "Acute"
    )
    data = posted(
        plan,
        slug,
        {
            f"spend_to_date_{acute['position']}": "113,000,000",
            f"forecast_{acute['position']}": "151,714,000",
            f"progress_{acute['position']}": "Winter plan started early.",
        },
    )
    response = client.post(return_url(plan, slug), data, follow=True)
    assert "Quarter 3 of 2015/16 (October to December 2015) return saved" in (
        response.content.decode()
    )
    saved = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=3)
    assert saved.version == 1 and saved.updated_by.username == "plymouth-finance"
    figures = figures_for(submitted_seal(plan), "2015/16", saved.content)
    assert figures["overspend"] == Decimal("27042000")
    assert figures["variance"] == Decimal("300000")
    # 300k moved since the last notice, under the 500k threshold: no second notice.
    assert VarianceNotice.objects.filter(plan=plan).count() == 1
    history = client.get(return_url(plan, slug)).content.decode()
    assert "Acute: Forecast outturn" in history and "£151,714,000" in history


def test_a_forecast_below_the_spend_to_date_is_refused_beside_it_and_the_typing_kept(client):
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    slug = "2015-16-q4"
    data = posted(plan, slug, {"spend_to_date_0": "9,000,000", "forecast_0": "8,000,000"})
    response = client.post(return_url(plan, slug), data)
    text = response.content.decode()
    assert response.status_code == 400
    assert "Wellbeing: The forecast outturn cannot be less than the spend to date." in text
    assert 'value="9,000,000"' in text and 'value="8,000,000"' in text
    assert 'href="#id_forecast_0"' in text  # the error summary links to the field
    assert not QuarterlyReturn.objects.filter(plan=plan, quarter=4, year="2015/16").exists()
    # A word for an amount is refused beside its field too.
    data = posted(
        plan, slug, {"paid_" + next(k[5:] for k in data if k.startswith("paid_")): "lots"}
    )
    response = client.post(return_url(plan, slug), data)
    assert response.status_code == 400
    assert "Paid into the pool to date" in response.content.decode()


def test_two_finance_leads_saving_one_return_the_second_sees_the_first_and_keeps_their_figures(
    client,
):
    plan = plymouth()
    slug = "2015-16-q2"
    first = posted(plan, slug, {"forecast_0": "17,500,000"})
    second = posted(plan, slug, {"forecast_0": "17,900,000", "note": "Mine"})
    client.force_login(person("plymouth-finance"))
    assert client.post(return_url(plan, slug), first).status_code == 302
    client.force_login(person("plymouth-admin"))
    response = client.post(return_url(plan, slug), second)
    text = response.content.decode()
    assert response.status_code == 409
    assert "saved this return while you were working on it" in text
    assert "Wellbeing: Forecast outturn" in text and "£17,500,000" in text and "£17,900,000" in text
    assert 'value="17,900,000"' in text  # their typing is kept
    found = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    assert found.content["schemes"][0]["forecast"] == "17500000.00"
    # Saving again from the conflict page replaces the first.
    again = re.search(r'name="base_version" value="(\d+)"', text).group(1)
    assert client.post(return_url(plan, slug), {**second, "base_version": again}).status_code == 302
    found.refresh_from_db()
    assert found.content["schemes"][0]["forecast"] == "17900000.00"
    assert found.content["note"] == "Mine"


def test_a_forecast_moved_by_the_threshold_raises_a_new_notice_emailed_by_the_task_worker(
    run_tasks,
):
    plan = plymouth()
    quarter = quarter_find(plan, "2015-16-q3")
    seal = submitted_seal(plan)
    figures = figures_for(seal, quarter.year_label, {})
    acute = next(row["position"] for row in figures["schemes"] if row["name"] == "Acute")
    content = {"schemes": [{"position": acute, "forecast": "152414000"}]}
    run_tasks()
    mail.outbox.clear()
    saved, notice = return_save(
        plan=plan,
        quarter=quarter,
        content=content,
        base_version=0,
        user=person("plymouth-admin"),
        today=date(2015, 12, 21),
    )
    assert notice is not None and notice.overspend == Decimal("27742000")
    # Across Christmas: 25, 28 December and 1 January are bank holidays (2015).
    assert notice.due_on == date(2016, 1, 7)
    assert run_tasks() == 1
    (email,) = mail.outbox
    assert "A forecast over-spend of £27,742,000 in 2015/16" in email.subject
    assert "plymouth-ccg-signatory@" in " ".join(email.to)
    assert "£20,806,500" in email.body and "£6,935,500" in email.body
    assert "/areas/plymouth/plans/itf-2014/monitoring/" in email.body


def test_a_return_is_refused_for_a_plan_not_submitted_or_a_quarter_not_begun(client):
    rotherham = Plan.objects.select_related("area", "round").get(area__slug="rotherham")
    client.force_login(person("rotherham-finance"))
    response = client.get(return_url(rotherham, "2014-15-q1"))
    assert "once the plan has been submitted" in response.content.decode()
    response = client.post(return_url(rotherham, "2014-15-q1"), {"base_version": "0"})
    assert response.status_code == 409
    assert not QuarterlyReturn.objects.filter(plan=rotherham).exists()
    plan = plymouth()
    later = quarter_find(plan, "2015-16-q4")
    assert "has not started yet: its return can be recorded from 1 January 2016" in (
        return_refusal(plan, later, date(2015, 12, 31))
    )
    with pytest.raises(ValidationError):
        return_save(
            plan=plan,
            quarter=later,
            content={},
            base_version=0,
            user=person("plymouth-finance"),
            today=date(2015, 12, 31),
        )
    assert client.get(return_url(plan, "2016-17-q1")).status_code == 404


def test_only_finance_leads_and_the_area_admin_record_a_return(client):
    plan = plymouth()
    data = posted(plan, "2015-16-q4", {"forecast_0": "17,158,000"})
    for name, status in (("plymouth-reviewer", 403), ("plymouth-commissioner", 403)):
        client.force_login(person(name))
        assert client.post(return_url(plan, "2015-16-q4"), data).status_code == status
    client.force_login(person("walsall-finance"))
    assert client.post(return_url(plan, "2015-16-q4"), data).status_code == 404
    client.logout()
    assert client.get(return_url(plan, "2015-16-q4")).status_code == 302
    assert not QuarterlyReturn.objects.filter(plan=plan, year="2015/16", quarter=4).exists()
    # A reader sees the figures, not the form.
    client.force_login(person("plymouth-reviewer"))
    text = client.get(return_url(plan, "2015-16-q2")).content.decode()
    assert "Save the return" not in text and "An over-spend of £26,742,000" in text


def test_the_monitoring_page_reads_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    plan = plymouth()
    client.force_login(person("plymouth-ccg-signatory"))
    with django_assert_max_num_queries(14):
        assert client.get(page(plan)).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(return_url(plan, "2015-16-q2")).status_code == 200


def test_quarters_run_april_to_march():
    plan = plymouth()
    quarters = plan_quarters(plan)
    assert [q.slug for q in quarters][:2] == ["2014-15-q1", "2014-15-q2"]
    assert [(q.starts_on, q.ends_on) for q in quarters[3:5]] == [
        (date(2015, 1, 1), date(2015, 3, 31)),
        (date(2015, 4, 1), date(2015, 6, 30)),
    ]
    assert quarters[-1].name == "Quarter 4 of 2015/16 (January to March 2016)"


def test_an_under_spend_is_split_to_the_penny_and_a_small_move_is_no_new_notice():
    shares = risk_share_split(Decimal("-100.01"), {1: Decimal(75), 2: Decimal(25)})
    assert sum(shares.values()) == Decimal("-100.01")
    assert shares == {1: Decimal("-75.01"), 2: Decimal("-25.00")}
    arrangements = {"materiality_threshold": "500000"}
    assert not notice_needed(Decimal("499999.99"), None, arrangements)
    assert notice_needed(Decimal("-500000"), None, arrangements)
    assert not notice_needed(Decimal("26742000"), Decimal("26500000"), arrangements)
    assert notice_needed(Decimal("27242000"), Decimal("26742000"), arrangements)


def test_an_income_line_forecast_over_its_plan_reduces_the_over_spend():
    partners = list(Area.objects.get(slug="plymouth").partners.all())
    schemes = {
        "rows": [
            {"name": "Care", "stream": "nhs", "spend": {"2015/16": "1000"}},
            {"name": "Charges", "stream": "other", "income": True, "spend": {"2015/16": "200"}},
        ]
    }
    contributions = {
        "amounts": [
            {"organisation": partners[0].pk, "stream": "nhs", "year": "2015/16", "amount": "800"}
        ]
    }
    figures = return_figures(
        schemes=schemes,
        contributions=contributions,
        arrangements={},
        metrics={},
        partners=partners,
        year="2015/16",
        content={"schemes": [{"position": 1, "forecast": "300"}]},
    )
    assert figures["forecast"] == Decimal("700")  # 1,000 at plan (no forecast), less 300
    assert figures["overspend"] == Decimal("-100")
    assert figures["unforecast"] == ["Care"]
    assert [row["variance"] for row in figures["schemes"]] == [Decimal(0), Decimal(-100)]


def test_the_board_gets_the_monitoring_report_as_a_paper_with_the_notice_and_the_year(
    client, run_tasks
):
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    plan = plymouth()
    client.force_login(person("plymouth-chair"))
    url = page(plan, "monitoring_pdf")
    waiting = client.get(url)
    assert waiting.status_code == 202 and "Preparing the PDF" in waiting.content.decode()
    run_tasks()
    response = client.get(url)
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="itf-monitoring-plymouth-itf-2014-' in response["Content-Disposition"]
    texts = [p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages]
    whole = " ".join(" ".join(texts).split())
    assert all("Monitoring report, as at" in text for text in texts)
    assert "A forecast over-spend of £26,742,000 in 2015/16" in whole
    assert "£20,056,500" in whole and "£6,685,500" in whole and "Not yet" in whole
    assert "2015/16: as forecast in the quarter 2 return" in whole
    assert "Acute is forecast £1,200k over its plan on winter pressures" in whole
    assert "Non-elective admissions 2% over plan in August and September." in whole
    # Nothing runs off a page: the right margin is clear on every page.
    for rendered in pdfium.PdfDocument(response.content):
        image = rendered.render(scale=1).to_pil().convert("L")
        width, height = rendered.get_size()
        margin = image.crop((int(width - 34), 57, int(width), int(height - 62)))
        assert sum(margin.histogram()[:200]) == 0
    # Another area's people cannot have it.
    client.force_login(person("devon-admin"))
    assert client.get(url).status_code == 404


def _signoff_rows(client, plan, slug) -> str:
    return client.get(return_url(plan, slug)).content.decode()


def test_each_partners_finance_lead_confirms_a_return_and_then_the_chair_notes_it(client):
    plan = plymouth()
    q1 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=1)
    assert {s.kind for s in q1.signoffs.filter(withdrawn_at__isnull=True)} == {
        "confirmed",
        "noted",
    }
    ccg = plan.area.partners.get(kind="ccg")
    client.force_login(person("plymouth-ccg-finance"))
    asked = "Confirm the Plymouth return for Quarter 2 of 2015/16 (July to September 2015) for NHS"
    assert asked in client.get(reverse("dashboard")).content.decode()
    text = _signoff_rows(client, plan, "2015-16-q2")
    assert "Confirmed by Plymouth finance lead, 21 October 2015" in text
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', text).group(1)
    url = page(plan, "return_confirm", quarter="2015-16-q2", organisation_id=ccg.pk)
    done = client.post(url, {"digest": digest}, follow=True).content.decode()
    assert f"The figures are confirmed for {ccg.name}." in done
    again = client.post(url, {"digest": digest}, follow=True).content.decode()
    assert "had already confirmed this version" in again
    assert asked not in client.get(reverse("dashboard")).content.decode()

    client.force_login(person("plymouth-chair"))
    noting = "Note the Plymouth return for Quarter 2 of 2015/16 (July to September 2015)"
    assert noting in client.get(reverse("dashboard")).content.decode()
    note = page(plan, "return_note", quarter="2015-16-q2")
    assert "Noted for the Health and Wellbeing Board." in (
        client.post(note, {"digest": digest}, follow=True).content.decode()
    )
    assert (
        "had already been noted"
        in client.post(note, {"digest": digest}, follow=True).content.decode()
    )
    q2 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    assert q2.signoffs.filter(withdrawn_at__isnull=True).count() == 3
    assert noting not in client.get(reverse("dashboard")).content.decode()


def test_a_change_to_a_confirmed_return_withdraws_its_sign_off_and_a_stale_confirmation_is_refused(
    client, run_tasks
):
    plan = plymouth()
    q1 = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=1)
    old = return_digest(q1)
    client.force_login(person("plymouth-finance"))
    assert (
        client.post(
            return_url(plan, "2015-16-q1"), posted(plan, "2015-16-q1", {"note": "Revised."})
        ).status_code
        == 302
    )
    q1.refresh_from_db()
    assert not q1.signoffs.filter(withdrawn_at__isnull=True).exists()
    assert q1.signoffs.filter(withdrawn_reason="The return was changed (version 2).").count() == 3
    # Those who had signed it off are told, by the task worker.
    mail.outbox.clear()
    run_tasks()
    told = [m for m in mail.outbox if "has changed since you signed it off" in m.subject]
    assert len(told) == 1 and sorted(told[0].to) == sorted(
        f"plymouth-{who}@demo.itf-portal.invalid" for who in ("finance", "ccg-finance", "chair")
    )
    text = _signoff_rows(client, plan, "2015-16-q1")
    assert "Withdrawn when the return changed (3)" in text
    council = plan.area.partners.get(kind="la")
    url = page(plan, "return_confirm", quarter="2015-16-q1", organisation_id=council.pk)
    refused = client.post(url, {"digest": old}, follow=True).content.decode()
    assert "The return has changed since you opened it (it is now version 2" in refused
    assert not q1.signoffs.filter(withdrawn_at__isnull=True).exists()
    with pytest.raises(ValidationError, match="still to confirm"):
        return_note(found=q1, user=person("plymouth-chair"), read_digest=return_digest(q1))


def test_nobody_confirms_for_another_partner_or_notes_a_return_they_confirmed(client):
    plan = plymouth()
    ccg = plan.area.partners.get(kind="ccg")
    council = plan.area.partners.get(kind="la")
    quarter = quarter_find(plan, "2015-16-q3")
    found, _ = return_save(
        plan=plan,
        quarter=quarter,
        content={"note": "Q3"},
        base_version=0,
        user=person("plymouth-admin"),
    )
    digest = return_digest(found)
    for name in ("plymouth-finance", "plymouth-admin", "plymouth-ccg-signatory"):
        with pytest.raises(PermissionDenied):
            return_confirm(found=found, organisation=ccg, user=person(name), read_digest=digest)
    client.force_login(person("plymouth-finance"))
    url = page(plan, "return_confirm", quarter="2015-16-q3", organisation_id=ccg.pk)
    assert client.post(url, {"digest": digest}).status_code == 403
    client.force_login(person("devon-ccg-finance"))  # the same CCG's finance lead, in Devon
    assert client.post(url, {"digest": digest}).status_code == 404
    # One person who is the council's finance lead and a chair: confirms, then may not note.
    both = person("plymouth-finance")
    member_make(plan.area, Role.HWB_CHAIR, user=both)
    return_confirm(found=found, organisation=council, user=both, read_digest=digest)
    return_confirm(
        found=found, organisation=ccg, user=person("plymouth-ccg-finance"), read_digest=digest
    )
    with pytest.raises(PermissionDenied, match="you cannot also note it"):
        return_note(found=found, user=both, read_digest=digest)
    for name in ("plymouth-admin", "plymouth-ccg-finance"):
        with pytest.raises(PermissionDenied):
            return_note(found=found, user=person(name), read_digest=digest)
    note, new = return_note(found=found, user=person("plymouth-chair"), read_digest=digest)
    assert new and note.version == 1


def test_the_national_composite_lists_the_areas_forecasting_an_over_spend_first(tmp_path):
    from openpyxl import load_workbook

    # Southampton submitted too, its first return forecasting an under-spend of its pool.
    from governance.signoff import plan_mark_submitted
    from plans.exports.national import TOTALS_LABEL, national_workbook
    from plans.services import plan_current_round
    from tests.libreoffice import recalculated

    southampton = Plan.objects.select_related("area", "round").get(area__slug="southampton")
    plan_mark_submitted(
        plan=southampton, user=person("southampton-admin"), submitted_on=date(2014, 2, 14)
    )
    southampton.refresh_from_db()
    figures = figures_for(submitted_seal(southampton), "2014/15", {})
    lines = [{"position": row["position"], "forecast": "0"} for row in figures["schemes"]]
    return_save(
        plan=southampton,
        quarter=quarter_find(southampton, "2014-15-q1"),
        content={"schemes": lines},
        base_version=0,
        user=person("southampton-finance"),
    )
    path = tmp_path / "composite.xlsx"
    path.write_bytes(national_workbook(plan_current_round()))
    sheet = load_workbook(recalculated([path], tmp_path) / path.name, data_only=True)["Monitoring"]
    rows = [
        dict(zip([c.value for c in sheet[1]], r, strict=True))
        for r in sheet.iter_rows(2, values_only=True)
    ]
    (plymouth_row, southampton_row, totals) = rows
    assert plymouth_row["Area"] == "Plymouth"
    assert southampton_row["Area"] == "Southampton"
    assert southampton_row["Forecast over-spend (an under-spend is negative)"] < 0
    assert (
        plymouth_row["Latest quarterly return"] == "Quarter 2 of 2015/16 (July to September 2015)"
    )
    assert plymouth_row["Forecast over-spend (an under-spend is negative)"] == 26742000
    assert plymouth_row["Pooled budget"] == 421481000
    assert (
        plymouth_row["Partners still to acknowledge"]
        == "NHS Northern, Eastern and Western Devon CCG"
    )
    assert plymouth_row["Confirmed by every partner's finance lead"] == "No"
    assert "£20,056,500" in plymouth_row["Shared between the partners"]
    assert totals["Area"] == TOTALS_LABEL
    assert totals["Forecast net spend"] == 448223000 + southampton_row["Forecast net spend"]


def test_the_performance_payment_is_worked_out_from_the_measures_met_with_the_contingency(client):
    plan = plymouth()
    client.force_login(person("plymouth-chair"))
    text = " ".join(client.get(page(plan)).content.decode().split())
    assert "Paid for performance in 2015/16" in text
    # £4.8m: £2.4m on 2014/15 performance, three of the five measures met at 20% each.
    assert "(2014/15 figures): £1,440,000 of £2,400,000 earned" in text
    # In-year so far: only the service users' experience has met its 2015/16 projection.
    assert "(2015/16 figures): £480,000 of £2,400,000 earned" in text
    assert "and last year&#x27;s performance: £960,000 not earned (2014/15 figures)" in text
    assert "Non-elective admissions reduced by 3.5%: up to £1,575,000" in text


def test_a_national_admin_sets_how_the_measures_count_and_the_payment_follows(client):
    from finance.services import performance_terms
    from plans.services import plan_current_round

    client.force_login(person("national-admin"))
    terms = performance_terms(plan_current_round())
    data = {"terms": "1"}
    for number, term in enumerate(terms):
        data[f"share_{number}"] = "20"
        data[f"better_{number}"] = "lower" if term["lower_is_better"] else "higher"
    data["share_0"], data["share_1"] = "40", "10"  # delayed transfers count for more
    data["share_2"] = "x"
    response = client.post(reverse("allocations"), data)
    assert response.status_code == 200
    assert "Effectiveness of reablement: share must be a number" in response.content.decode()
    assert 'value="40"' in response.content.decode()  # the typing is kept
    data["share_2"] = "25"
    refused = client.post(reverse("allocations"), data).content.decode()
    assert "The measures&#x27; shares must add up to 100%; they add up to 115%." in refused
    data["share_2"] = "10"
    assert client.post(reverse("allocations"), data).status_code == 302
    client.force_login(person("plymouth-chair"))
    text = " ".join(client.get(page(plymouth())).content.decode().split())
    # 2014/15: DTOC (40%) and reablement (10%) and experience (20%) met: 70% of £2.4m.
    assert "(2014/15 figures): £1,680,000 of £2,400,000 earned" in text
    client.force_login(person("plymouth-admin"))
    assert client.post(reverse("allocations"), data).status_code == 403


def _workbook(client, plan, slug) -> bytes:
    response = client.get(page(plan, "quarterly_return_export", quarter=slug))
    assert response.status_code == 200
    assert f'filename="itf-return-plymouth-{slug}-version-' in response["Content-Disposition"]
    return response.content


def _import(client, plan, slug, data: bytes, name="return.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, data)
    return client.post(return_url(plan, slug), {"import": "1", "workbook": upload})


def test_a_return_goes_out_as_a_workbook_with_live_formulas_and_comes_back_into_its_form(
    client, tmp_path
):
    from openpyxl import load_workbook

    from tests.libreoffice import recalculated

    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    data = _workbook(client, plan, "2015-16-q2")
    path = tmp_path / "return.xlsx"
    path.write_bytes(data)
    book = load_workbook(recalculated([path], tmp_path) / path.name, data_only=True)
    sheet = book["Return"]
    values = {row[1]: row for row in sheet.iter_rows(values_only=True) if row[1]}
    assert values["Net (spend less income)"][3] == 448223000  # planned, live
    assert values["Net (spend less income)"][6] == 448223000  # forecast, live
    over = next(r for r in sheet.iter_rows(values_only=True) if r[1] and "over-spend" in r[1])
    assert over[3] == 26742000
    assert values["Acute"][7] == 1200000  # the variance, a live formula
    checks = {r[0]: r[1] for r in book["Checklist"].iter_rows(min_row=4, values_only=True)}
    assert checks["No forecast outturn is below its spend to date"] == "Yes"
    assert checks["The forecast over- or under-spend is within the materiality threshold"] == "No"

    # The finance lead fills it in as a spreadsheet: Acute down, a note that looks like a formula.
    book = load_workbook(io.BytesIO(data))
    sheet = book["Return"]
    for row in sheet.iter_rows(min_row=5):
        if row[1].value == "Acute":
            row[5].value = 151914000
            row[8].value = '=HYPERLINK("http://x","click")'
    edited = io.BytesIO()
    book.save(edited)
    response = _import(client, plan, "2015-16-q2", edited.getvalue())
    text = response.content.decode()
    assert response.status_code == 200, re.findall(r"Error: </span>([^<]*)<", text)
    assert "The figures below are from return.xlsx. Nothing is saved yet" in text
    assert 'value="151914000"' in text
    found = QuarterlyReturn.objects.get(plan=plan, year="2015/16", quarter=2)
    assert found.version == 1  # nothing saved until the person saves
    # Saving what the page shows (the workbook's cells, as the page posts them) makes version 2.
    from plans.exports.returns import return_workbook_read

    shown, version = return_workbook_read(
        edited.getvalue(),
        plan=plan,
        quarter=quarter_find(plan, "2015-16-q2"),
        figures=figures_for(submitted_seal(plan), "2015/16", found.content),
    )
    assert version == 1
    assert client.post(return_url(plan, "2015-16-q2"), shown).status_code == 302
    found.refresh_from_db()
    acute = next(line for line in found.content["schemes"] if line["name"] == "Acute")
    assert (found.version, acute["forecast"]) == (2, "151914000.00")
    assert acute["progress"] == "=HYPERLINK(&quot;http://x&quot;,&quot;click&quot;)".replace(
        "&quot;", '"'
    )


def test_a_workbook_of_another_quarter_a_damaged_file_or_a_stale_copy_is_refused_with_why(client):
    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    q1 = _workbook(client, plan, "2015-16-q1")
    wrong = _import(client, plan, "2015-16-q2", q1)
    assert wrong.status_code == 400
    assert "This is not the workbook of the Quarter 2 of 2015/16" in wrong.content.decode()
    damaged = _import(client, plan, "2015-16-q2", b"PK\x03\x04 not really")
    assert "The file is not an Excel workbook (.xlsx)." in damaged.content.decode()
    # Exported at version 1; a colleague saves version 2; the import's save is then a conflict.
    q2 = _workbook(client, plan, "2015-16-q2")
    client.force_login(person("plymouth-admin"))
    client.post(return_url(plan, "2015-16-q2"), posted(plan, "2015-16-q2", {"note": "Admin's"}))
    client.force_login(person("plymouth-finance"))
    shown = _import(client, plan, "2015-16-q2", q2).content.decode()
    assert 'name="base_version" value="1"' in shown
    stale = posted(plan, "2015-16-q2", {"base_version": "1", "note": "From the workbook"})
    response = client.post(return_url(plan, "2015-16-q2"), stale)
    assert response.status_code == 409
    assert "saved this return while you were working on it" in response.content.decode()


def test_the_partners_comment_on_a_return_and_a_blank_or_long_comment_is_refused_and_kept(client):
    plan = plymouth()
    url = page(plan, "return_comment", quarter="2015-16-q2")
    client.force_login(person("plymouth-ccg-finance"))
    done = client.post(url, {"comment-text": "Is the Acute figure after the winter money?"})
    assert done.status_code == 302 and done["Location"].endswith("/2015-16-q2/#comments")
    text = client.get(return_url(plan, "2015-16-q2")).content.decode()
    assert "Comments (1)" in text and "Is the Acute figure after the winter money?" in text
    blank = client.post(url, {"comment-text": "   "})
    assert blank.status_code == 400 and "Write your comment before posting it." in (
        blank.content.decode()
    )
    long = client.post(url, {"comment-text": "x" * 5001})
    assert "A comment must be 5,000 characters or fewer." in long.content.decode()
    assert "x" * 5001 in long.content.decode()  # what was typed is kept
    client.force_login(person("devon-admin"))
    assert client.post(url, {"comment-text": "From Devon"}).status_code == 404
    client.force_login(person("plymouth-finance"))
    unrecorded = page(plan, "return_comment", quarter="2015-16-q4")
    assert client.post(unrecorded, {"comment-text": "Early"}).status_code == 404


def test_the_return_workbook_prints_whole_through_a_spreadsheet_program(client, tmp_path):
    from pypdf import PdfReader

    from tests.libreoffice import recalculated

    plan = plymouth()
    client.force_login(person("plymouth-finance"))
    path = tmp_path / "return.xlsx"
    path.write_bytes(_workbook(client, plan, "2015-16-q2"))
    printed = recalculated([path], tmp_path, to="pdf") / "return.pdf"
    pages = [page.extract_text() for page in PdfReader(printed).pages]
    whole = " ".join(" ".join(pages).split())
    assert "Quarter 2 of 2015/16 (July to September 2015) return" in pages[0]
    # Every amount printed in full (a column too narrow prints ### instead), the totals worked.
    assert "###" not in whole
    assert "£152,614,000.00" in whole and "£448,223,000.00" in whole and "£26,742,000.00" in whole
    assert "Additional 2014/15 transfer: care co-" in whole  # wrapped in its column, whole
    assert "At or beyond the threshold" in pages[-1]  # the Checklist, printed last


def test_the_composite_gives_a_returns_notice_only_if_it_is_of_the_same_year():
    from governance.monitoring import monitoring_summaries

    plan = plymouth()
    seal = submitted_seal(plan)
    (summary,) = monitoring_summaries({plan.pk: seal}).values()
    assert summary["notice"] is not None and summary["return"].year == "2015/16"
    VarianceNotice.objects.filter(plan=plan).update(year="2014/15")  # as if of the year before
    (summary,) = monitoring_summaries({plan.pk: seal}).values()
    assert summary["notice"] is None and summary["waiting"] == []
