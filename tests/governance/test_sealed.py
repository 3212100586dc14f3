"""Sealed means sealed: a sealed version renders from its snapshot alone."""

from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from finance.services import part_save
from governance.constants import Role
from governance.models import Membership, Seal
from governance.signoff import plan_reopen, plan_submit_for_signoff, signature_add
from itf_portal.money import money_format
from plans.constants import PartKey
from plans.exports.service import plan_export_xlsx, plan_print_html
from plans.models import Plan
from plans.services import area_save, plan_current_round, plan_open
from plans.snapshot import seal_digest
from tests.factories import PASSWORD, area_make, member_make, plan_make_ready
from tests.libreoffice import recalculated

REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.4")


def _devon_sealed_with_a_ccg_line() -> SimpleNamespace:
    """Devon's plan to its seal: Devon's plan, sealed with a line of health and
    care spend for the CCG about to leave (£1,234,567 of the year's £1,235,567)."""
    area = area_make("Devon", ccg_count=2)
    commissioner = member_make(area, "commissioner")
    admin = member_make(area, "area_admin")
    plan = plan_make_ready(plan_open(area=area, round=plan_current_round()), commissioner)
    leaving = plan.partner_organisations[-1]
    spend = plan.parts.get(key=PartKey.SPEND)
    part_save(
        part=spend,
        content={
            "lines": {
                f"ccg_{leaving.pk}": {"spend": {"2014/15": "1234567.00"}},
                "primary_care": {"spend": {"2014/15": "1000.00"}},
            },
            "line_labels": {f"ccg_{leaving.pk}": leaving.name, "primary_care": "Primary Care"},
        },
        status="complete",
        base_version=spend.version,
        user=commissioner,
    )
    seal = plan_submit_for_signoff(plan=plan, user=commissioner)
    return SimpleNamespace(
        area=area, plan=plan, leaving=leaving, commissioner=commissioner, admin=admin, seal=seal
    )


def _the_ccg_departs(devon: SimpleNamespace) -> None:
    """The plan reopened and the CCG taken out of the area's partners."""
    plan_reopen(
        password=PASSWORD,
        request=REQUEST,
        plan=Plan.objects.get(pk=devon.plan.pk),
        user=devon.admin,
        reason="A CCG merges",
    )
    Membership.objects.filter(partnership__organisation=devon.leaving).delete()
    area_save(
        area=devon.area,
        name=devon.area.name,
        slug=devon.area.slug,
        partners=[o for o in devon.plan.partner_organisations if o.pk != devon.leaving.pk],
    )


def test_a_sealed_version_keeps_a_departed_ccgs_lines_and_the_signed_totals(client, db, world):
    devon = _devon_sealed_with_a_ccg_line()
    _the_ccg_departs(devon)
    client.force_login(devon.commissioner)

    page = client.get(
        reverse("sealed_version", args=[devon.area.slug, devon.plan.round.slug, devon.seal.number])
    ).content.decode()

    assert devon.leaving.name in page
    assert money_format(Decimal("1234567")) in page
    assert money_format(Decimal("1235567")) in page  # the total that was signed
    assert seal_digest(Seal.objects.get(pk=devon.seal.pk).snapshot) == devon.seal.digest


def test_a_departed_ccg_stays_in_the_comparison_and_in_its_seals_workbook_and_board_paper(
    client, db, world, tmp_path
):
    devon = _devon_sealed_with_a_ccg_line()
    leaving, seal = devon.leaving, devon.seal
    signatory = Membership.objects.get(partnership__organisation=leaving, role=Role.SIGNATORY).user
    signature = signature_add(
        plan=Plan.objects.get(pk=devon.plan.pk),
        user=signatory,
        organisation=leaving,
        password=PASSWORD,
        position="Accountable Officer",
        request=REQUEST,
    )
    # A plan exports its latest sealed version only while that version is out for sign-off
    # (once reopened it exports its draft), so seal 1's workbook and board paper are taken now.
    plan = Plan.objects.get(pk=devon.plan.pk)
    workbook, name = plan_export_xlsx(plan=plan, user=devon.commissioner)
    html, digest = plan_print_html(plan)
    assert digest == seal.digest

    _the_ccg_departs(devon)
    plan = Plan.objects.get(pk=devon.plan.pk)
    spend = plan.parts.get(key=PartKey.SPEND)
    part_save(  # the departed CCG's line taken out before sealing again
        part=spend,
        content={
            "lines": {"primary_care": {"spend": {"2014/15": "1000.00"}}},
            "line_labels": {"primary_care": "Primary Care"},
        },
        status="complete",
        base_version=spend.version,
        user=devon.commissioner,
    )
    second = plan_submit_for_signoff(plan=plan, user=devon.commissioner)
    assert leaving.pk not in {p["id"] for p in second.snapshot["partners"]}
    client.force_login(devon.commissioner)
    compare = client.get(
        reverse("sealed_compare", args=[devon.area.slug, plan.round.slug, seal.number, 2])
    ).content.decode()
    assert f"{leaving.name}, 2014/15 spend" in compare
    assert f"<del>{money_format(Decimal('1234567'))}</del>" in compare
    # The partner's leaving is itself a change between the two versions, as signing counts it.
    assert f"<del>{leaving.name} left</del>" in compare

    path = tmp_path / name
    path.write_bytes(workbook)
    book = load_workbook(recalculated([path], tmp_path) / name, data_only=True)
    spend_rows = [list(row) for row in book["Health and care spend"].iter_rows(values_only=True)]
    header = next(row for row in spend_rows if row[0] == "Organisation")
    column = header.index("2014/15 spend")
    by_line = {row[0]: row[column] for row in spend_rows}
    assert by_line[leaving.name] == 1234567
    assert by_line["Total"] == 1235567  # the total that was signed, worked out by a spreadsheet
    cover = [list(row) for row in book["Cover"].iter_rows(values_only=True)]
    assert f"Seal: {seal.digest}" in [row[1] for row in cover]
    assert ["Clinical Commissioning Group", leaving.name] in [row[:2] for row in cover]
    signed_for = [row[0] for row in cover].index(
        f"Signed on behalf of the Clinical Commissioning Group: {leaving.name}"
    )
    assert cover[signed_for + 1][:2] == ["By", signature.name]
    totals = {row[0]: row[1] for row in cover if str(row[0]).startswith("Total agreed value")}
    assert totals == {
        "Total agreed value of pooled budget: 2014/15": 1000,
        "Total agreed value of pooled budget: 2015/16": 1000,
    }

    assert seal.digest in html
    assert leaving.name in html and signature.name in html
    assert money_format(Decimal("1234567")) in html
    assert money_format(Decimal("1235567")) in html


def test_a_sealed_board_paper_prints_the_sealed_partners_not_todays(db, world):
    area = area_make("Torbay", ccg_count=2)
    commissioner = member_make(area, "commissioner")
    plan = plan_make_ready(plan_open(area=area, round=plan_current_round()), commissioner)
    plan_submit_for_signoff(plan=plan, user=commissioner)
    sealed_names = [o.name for o in plan.partner_organisations]
    for organisation in plan.partner_organisations:
        organisation.name = f"Renamed {organisation.name}"
        organisation.save()

    html, digest = plan_print_html(Plan.objects.get(pk=plan.pk))

    assert digest
    for name in sealed_names:
        assert name in html
    assert "Renamed" not in html


@pytest.mark.parametrize("key", [PartKey.CONTRIBUTIONS, PartKey.SCHEMES])
def test_a_sealed_version_page_does_not_read_todays_parts(client, world, key):
    plan = plan_make_ready(
        plan_open(area=world.area, round=plan_current_round()), world.commissioner
    )
    seal = plan_submit_for_signoff(plan=plan, user=world.commissioner)
    Plan.objects.filter(pk=plan.pk).update(state="drafting")
    part = plan.parts.get(key=key)
    part.content = {}
    part.save()
    client.force_login(world.commissioner)
    page = client.get(
        reverse("sealed_version", args=[world.area.slug, plan.round.slug, seal.number])
    ).content.decode()
    assert "£1,000" in page


def test_two_versions_differ_by_their_partners_and_minimums_as_well_as_their_parts():
    from plans.diff import frame_changes

    old = {
        "partners": [{"id": 1, "name": "Devon Council"}, {"id": 2, "name": "NHS North CCG"}],
        "allocations": {"2015/16": {"minimum": "1000.00", "performance_element": "0.00"}},
    }
    new = {
        "partners": [{"id": 1, "name": "Devon Council"}, {"id": 3, "name": "NHS South CCG"}],
        "allocations": {"2015/16": {"minimum": "1500.00", "performance_element": "0.00"}},
    }
    shown = {(c.label, str(c.html)) for c in frame_changes(old, new)}
    assert shown == {
        ("Partner", "<ins>NHS South CCG joined</ins>"),
        ("Partner", "<del>NHS North CCG left</del>"),
        (
            "Minimum required value of ITF pooled budget: 2015/16",
            "<del>£1,000</del> <ins>£1,500</ins>",
        ),
    }
    assert frame_changes(old, old) == []
    names = {"partners": [{"id": 1, "name": "<b>Council</b>"}]}
    assert "&lt;b&gt;" in str(frame_changes({}, names)[0].html)


def test_an_approval_reopened_stays_with_its_version_and_is_never_printed_on_the_next(db, world):
    """Approved on the Board's date as version 1, then reopened and sealed again: version 2's
    paper and workbook carry no approval, no Board date and no chair, until the chair approves
    version 2 itself."""
    from datetime import date

    from governance.signoff import plan_approve

    plan = plan_make_ready(plan_open(area=world.area, round=plan_current_round()), world.admin)
    plan_submit_for_signoff(plan=plan, user=world.commissioner)
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.8")
    signers = Membership.objects.filter(partnership__area=world.area, role=Role.SIGNATORY)
    for membership in signers.select_related("user", "partnership__organisation"):
        signature_add(
            plan=Plan.objects.get(pk=plan.pk),
            user=membership.user,
            organisation=membership.partnership.organisation,
            password=PASSWORD,
            position="Chief Executive",
            request=request,
        )
    chair = member_make(world.area, Role.HWB_CHAIR, username="chair", first_name="Anne")
    plan_approve(
        plan=Plan.objects.get(pk=plan.pk),
        user=chair,
        password=PASSWORD,
        agreed_on=date(2014, 2, 14),
        request=request,
    )
    html, _ = plan_print_html(Plan.objects.get(pk=plan.pk))
    assert "14/02/2014" in html and "Anne" in html
    plan_reopen(
        plan=Plan.objects.get(pk=plan.pk),
        user=world.admin,
        reason="The Board asked for changes",
        password=PASSWORD,
        request=request,
    )
    plan = Plan.objects.get(pk=plan.pk)
    assert plan.hwb_agreed_on is None
    approval = plan.decisions.get(action="approved")
    assert approval.reason == "Agreed at the Health and Wellbeing Board on 14 February 2014"
    assert approval.seal.number == 1
    plan_submit_for_signoff(plan=plan, user=world.commissioner)
    plan = Plan.objects.get(pk=plan.pk)
    html, digest = plan_print_html(plan)
    assert digest == plan.seals.get(number=2).digest
    assert "14/02/2014" not in html and "Anne" not in html
    book = load_workbook(BytesIO(plan_export_xlsx(plan=plan, user=None)[0]))
    cover = [v for row in book["Cover"].iter_rows(values_only=True) for v in row if v]
    assert not any("Anne" in str(v) or "14/02/2014" in str(v) for v in cover)


def test_an_earlier_sealed_version_downloads_as_it_was_sealed_after_the_plan_moves_on(
    client, db, world, run_tasks
):
    devon = _devon_sealed_with_a_ccg_line()
    _the_ccg_departs(devon)
    plan = Plan.objects.get(pk=devon.plan.pk)
    plan_submit_for_signoff(plan=plan, user=devon.commissioner)
    args = [devon.area.slug, plan.round.slug, devon.seal.number]
    client.force_login(devon.commissioner)
    page = client.get(reverse("sealed_version", args=args)).content.decode()
    assert reverse("sealed_export", args=args) in page
    response = client.get(reverse("sealed_export", args=args))
    assert response.status_code == 200
    assert "itf-plan-devon-itf-2014-version-1.xlsx" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    texts = [str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v]
    assert any(devon.seal.digest in text for text in texts)
    assert devon.leaving.name in " ".join(texts)
    # Every sheet, and every printed page's header, says it is no longer the plan in force.
    mark = "Sealed version 1, reopened since — not the plan in force"
    sheets = [ws for ws in book if ws.sheet_state == "visible"]
    assert all(ws["C2"].value == mark and ws.oddHeader.center.text == mark for ws in sheets)
    html, digest = plan_print_html(plan, devon.seal.number)
    assert digest == devon.seal.digest
    assert "Sealed version 1, reopened since — not the plan in force" in html
    assert "Not for this version" in html and "Not yet set" not in html
    assert money_format(Decimal("1235567")) in html
    # The PDF prints through the task worker, then downloads under the version's name.
    url = reverse("sealed_export_pdf", args=args)
    assert client.get(url).status_code == 202
    run_tasks()
    pdf = client.get(url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "version-1.pdf" in pdf["Content-Disposition"]
    # Today's exports are version 2's; an unknown version and another area are not found.
    assert "version" not in client.get(reverse("plan_export", args=args[:2]))["Content-Disposition"]
    assert client.get(reverse("sealed_export", args=[*args[:2], 9])).status_code == 404
    client.force_login(world.outsider)
    assert client.get(reverse("sealed_export", args=args)).status_code == 404
