"""Sealed means sealed: a sealed version renders from its snapshot alone."""

from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse

from finance.services import part_save
from governance.models import Membership, Seal
from governance.signoff import plan_reopen, plan_submit_for_signoff
from itf_portal.money import money_format
from plans.constants import PartKey
from plans.exports.service import plan_print_html
from plans.models import Plan
from plans.services import area_save, plan_current_round, plan_open
from plans.snapshot import seal_digest
from tests.factories import PASSWORD, area_make, member_make, plan_make_ready

REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.4")


def test_a_sealed_version_keeps_a_departed_ccgs_lines_and_the_signed_totals(client, db, world):
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
    plan_reopen(
        password=PASSWORD,
        request=REQUEST,
        plan=Plan.objects.get(pk=plan.pk),
        user=admin,
        reason="A CCG merges",
    )
    Membership.objects.filter(partnership__organisation=leaving).delete()
    area_save(
        area=area,
        name=area.name,
        slug=area.slug,
        partners=[o for o in plan.partner_organisations if o.pk != leaving.pk],
    )
    client.force_login(commissioner)

    page = client.get(
        reverse("sealed_version", args=[area.slug, plan.round.slug, seal.number])
    ).content.decode()

    assert leaving.name in page
    assert money_format(Decimal("1234567")) in page
    assert money_format(Decimal("1235567")) in page  # the total that was signed
    assert seal_digest(Seal.objects.get(pk=seal.pk).snapshot) == seal.digest


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
