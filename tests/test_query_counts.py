"""Pages do a fixed number of queries whatever the plan's size.

Each page is read once on a small plan (a council and one CCG, no schemes or risks, one sealed
version) and again once the plan has grown (five CCGs, 40 schemes, 30 risks, contributions from
every partner, two sealed versions, signatures given and withdrawn, every milestone set): the
big plan's page may cost no more queries than the small plan's did.
"""

from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from finance.models import Allocation
from finance.services import part_save
from governance.constants import MilestoneKind, Role
from governance.milestones import milestones_set
from governance.models import Membership
from governance.signoff import plan_reopen, plan_submit_for_signoff, signature_add
from plans.constants import OrganisationKind, PartKey
from plans.models import Plan
from plans.services import area_save, plan_current_round, plan_open
from tests.factories import PASSWORD, OrganisationFactory, area_make, member_make, plan_make_ready

GROWN_CCGS = 4  # on top of the small plan's one
SCHEMES, RISKS = 40, 30


def _save(plan, key: str, content: dict, user) -> None:
    part = plan.parts.get(key=key)
    part_save(part=part, content=content, status="complete", base_version=part.version, user=user)


def _sign(plan, organisation, user) -> None:
    signature_add(
        plan=Plan.objects.get(pk=plan.pk),
        user=user,
        organisation=organisation,
        password=PASSWORD,
        position="Accountable Officer",
        request=RequestFactory().post("/", REMOTE_ADDR="10.0.0.7"),
    )


def _small() -> SimpleNamespace:
    """A council and one CCG, no schemes or risks (only the national metrics, which the checks
    ask for), sealed once and awaiting sign-off."""
    area = area_make("Dorset")
    commissioner = member_make(area, Role.COMMISSIONER)
    plan = plan_make_ready(plan_open(area=area, round=plan_current_round()), commissioner)
    # plan_make_ready's one scheme and one risk taken out: the tables are empty, and with a
    # minimum of nothing the plan still passes every check.
    for key in (PartKey.SCHEMES, PartKey.RISKS):
        _save(plan, key, {"rows": []}, commissioner)
    Allocation.objects.filter(area=area).update(minimum=0)
    seal = plan_submit_for_signoff(plan=plan, user=commissioner)
    signatories = {
        m.partnership.organisation_id: m.user
        for m in Membership.objects.filter(partnership__area=area, role=Role.SIGNATORY)
    }
    council = plan.partner_organisations[0]
    assert council.kind == OrganisationKind.LOCAL_AUTHORITY
    return SimpleNamespace(
        area=area,
        plan=Plan.objects.get(pk=plan.pk),
        seal=seal,
        first=seal,
        commissioner=commissioner,
        admin=member_make(area, Role.AREA_ADMIN),
        finance=member_make(area, Role.FINANCE_LEAD),
        council_signatory=signatories[council.pk],
        signatories=signatories,
    )


def _grow(small: SimpleNamespace) -> SimpleNamespace:
    """The same plan, grown: signed in part, reopened, four more CCGs, every table filled,
    sealed again and signed by every CCG (the council, whose signatory reads the sign-off
    page, not yet)."""
    area, plan, commissioner = small.area, small.plan, small.commissioner
    first_ccg = plan.partner_organisations[1]
    _sign(plan, first_ccg, small.signatories[first_ccg.pk])  # withdrawn on reopening
    plan_reopen(
        plan=Plan.objects.get(pk=plan.pk),
        user=small.admin,
        reason="More CCGs join",
        password=PASSWORD,
        request=RequestFactory().post("/", REMOTE_ADDR="10.0.0.7"),
    )
    joining = [
        OrganisationFactory(name=f"NHS Dorset CCG {n}", kind=OrganisationKind.CCG)
        for n in range(2, GROWN_CCGS + 2)
    ]
    area_save(
        area=area, name=area.name, slug=area.slug, partners=[*plan.partner_organisations, *joining]
    )
    signatories = dict(small.signatories)
    for organisation in joining:
        signatories[organisation.pk] = member_make(area, Role.SIGNATORY, organisation=organisation)
    plan = Plan.objects.get(pk=plan.pk)
    partners = plan.partner_organisations
    years = plan.round.year_labels
    _save(
        plan,
        PartKey.CONTRIBUTIONS,
        {
            "amounts": [
                {
                    "organisation": o.pk,
                    "stream": "s256" if o.is_local_authority else "nhs",
                    "year": year,
                    "amount": "1000.00",
                }
                for o in partners
                for year in years
            ]
        },
        commissioner,
    )
    _save(
        plan,
        PartKey.SCHEMES,
        {
            "rows": [
                {
                    "name": f"Scheme {n}",
                    "scheme_type": "reablement",
                    "income": n % 10 == 0,
                    "spend": dict.fromkeys(years, "1000.00"),
                    "benefits": dict.fromkeys(years, "10.00"),
                }
                for n in range(1, SCHEMES + 1)
            ]
        },
        commissioner,
    )
    _save(
        plan,
        PartKey.RISKS,
        {
            "rows": [
                {"description": f"Risk {n}", "impact": "M", "probability": "L"}
                for n in range(1, RISKS + 1)
            ]
        },
        commissioner,
    )
    _save(
        plan,
        PartKey.SPEND,
        {
            "lines": {
                f"ccg_{o.pk}": {"spend": dict.fromkeys(years, "5000.00")}
                for o in partners
                if not o.is_local_authority
            },
            "line_labels": {f"ccg_{o.pk}": o.name for o in partners if not o.is_local_authority},
        },
        commissioner,
    )
    milestones_set(
        plan=plan,
        user=small.admin,
        dates={
            kind: (date(2014, 1, 10 + n), date(2014, 1, 9 + n) if n % 2 else None)
            for n, kind in enumerate(MilestoneKind.values)
        },
    )
    second = plan_submit_for_signoff(plan=Plan.objects.get(pk=plan.pk), user=commissioner)
    for organisation in partners[1:]:
        _sign(plan, organisation, signatories[organisation.pk])
    assert second.signatures.count() == GROWN_CCGS + 1
    return SimpleNamespace(**{**vars(small), "plan": Plan.objects.get(pk=plan.pk), "seal": second})


def _plan_url(name: str, plan, **more) -> str:
    return reverse(name, kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, **more})


# Each page: who normally reads it, its address for the plan as it is, and words only the grown
# plan's page shows (so the big page is known to show the big plan).
PAGES = {
    "sign-off": (
        lambda w: w.council_signatory,
        lambda w: _plan_url("signoff", w.plan),
        "NHS Dorset CCG 5",
    ),
    "readiness": (
        lambda w: w.commissioner,
        lambda w: _plan_url("readiness", w.plan),
        "NHS Dorset CCG 5 has a signatory",
    ),
    "sealed version": (
        lambda w: w.council_signatory,
        lambda w: _plan_url("sealed_version", w.plan, number=w.seal.number),
        f"Scheme {SCHEMES}",
    ),
    "compare two seals": (
        lambda w: w.commissioner,
        lambda w: _plan_url("sealed_compare", w.plan, number=w.first.number, other=w.seal.number),
        f"Scheme {SCHEMES}",
    ),
    "pooled-fund summary": (
        lambda w: w.finance,
        lambda w: _plan_url("fund_summary", w.plan),
        "£6,000",
    ),
    "risk-share calculator": (
        lambda w: w.finance,
        lambda w: _plan_url("risk_share", w.plan) + "?overspend=60000&year=2015%2F16",
        "NHS Dorset CCG 5",
    ),
    "milestones": (
        lambda w: w.admin,
        lambda w: _plan_url("milestones", w.plan),
        "Overdue",
    ),
    # The decision log is not a page of its own: the plan's task list shows it.
    "decision log": (
        lambda w: w.commissioner,
        lambda w: _plan_url("task_list", w.plan),
        "More CCGs join",
    ),
    "verify": (
        lambda w: w.commissioner,
        lambda w: reverse("verify") + f"?seal={w.seal.digest}",
        "NHS Dorset CCG 5",
    ),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_costs_no_more_queries_when_the_plan_grows(
    client, db, page, django_assert_max_num_queries
):
    viewer, url, grown_words = PAGES[page]
    small = _small()
    client.force_login(viewer(small))
    address = url(small)
    client.get(address)  # the first request of a session reads what later ones need not
    with CaptureQueriesContext(connection) as few:
        response = client.get(address)
    assert response.status_code == 200
    assert grown_words not in response.content.decode()

    address = url(_grow(small))
    with django_assert_max_num_queries(len(few)):
        response = client.get(address)
    assert response.status_code == 200
    assert grown_words in response.content.decode()
