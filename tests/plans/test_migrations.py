"""Nothing lost on the way (issue 10, item 7): plans written before the pooled fund had tables of
its own are carried through the migrations that made them (finance 0002 and 0003) and the plans
migrations after them with every part, history entry, seal and import snapshot exactly as it
was; the tables hold exactly the figures of the parts' content; old seals still verify.

The plans are written through the migration state of the day, in the shapes the parts' content
had then (as the demo stored them), and the seal with the digest as it was computed then."""

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from finance import models as fund
from finance.fund import fund_totals
from finance.rules import pooled_budget, scheme_net_spend
from governance.models import Seal
from governance.signoff import seal_find
from plans.constants import PartKey
from plans.models import Part, Plan, PlanImport
from plans.snapshot import seal_digest
from plans.template import content_check

# The last migrations before the pooled fund's tables (commit 27d54ff, the parent of f8d2b7b):
# the email outbox of itf_portal came later still.
BEFORE = [
    ("plans", "0008_part_titles_from_the_template"),
    ("finance", "0001_allocations"),
    ("governance", "0007_compositeexport"),
]
UNAPPLIED_BEFORE = [("itf_portal", None)]
YEARS = ["2014/15", "2015/16"]
ROUND = {
    "slug": "itf-2014",
    "name": "Integration Transformation Fund 2014/15 and 2015/16",
    "baseline_year": 2013,
    "first_year": 2014,
    "last_year": 2015,
}
FUND_KEYS = {"contributions", "arrangements", "schemes", "spend", "contingency"}
START = datetime(2014, 1, 6, 9, tzinfo=UTC)


def sealed_then(snapshot: dict) -> str:
    """The seal as `plans/snapshot.py` computed it when these plans were sealed: SHA-256 of the
    snapshot's canonical JSON. Written out here so that a change to today's digest that would
    leave old seals unverifiable fails this test rather than moving with it."""
    text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- The plans as they were stored then ------------------------------------------------------


def narrative(area: str, council: str, ccg: str) -> dict:
    """The parts outside the pooled fund, in their stored shapes."""
    return {
        "summary": {
            "boundary_differences": f"None: {council} and {ccg} are coterminous.\n\nProviders "
            "serving a wider area (the acute trust, the mental health trust) agree discharge "
            "arrangements through the CCG's contracts."
        },
        "provider_engagement": {"text": f"The main NHS providers in {area} sit on the board."},
        "public_engagement": {"text": "Healthwatch sits on the Board; carers' groups shaped it."},
        "related_documents": {
            "rows": [
                {
                    "title": "Department of Health: Funding transfer from the NHS to social care "
                    "in 2013-14 (guidance to NHS England, 19 December 2012)",
                    "url": "https://www.gov.uk/government/publications/funding-transfer",
                }
            ]
        },
        "vision": {"text": "Keep people at home as long as possible;\na swift return home."},
        "aims": {"text": "The section 256 funding of £5,124,740 — recurring — and £1.140m."},
        "planned_changes": {"text": "=SUM(A1) is text here, as a person typed it."},
        "acute_sector": {"text": "About 800 fewer admissions a year, about £1.2 million."},
        "governance": {"text": "The Integration Board reports to the Health and Well Being Board."},
        "protecting_social_care": {
            "local_definition": "Maintaining the current eligibility threshold.",
            "how_protected": "The section 256 schemes continue in 2014/15 and 2015/16.",
        },
        "seven_day_services": {
            "strategic_commitment": "Seven-day working is a joint priority.",
            "local_plans": "The discharge team will work seven days from 2014/15.",
        },
        "data_sharing": {
            "nhs_number_used": "no",
            "nhs_number_commitment": "Not yet on every social care record.",
            "nhs_number_by": "2015-03-31",
            "open_apis": "yes",
            "open_apis_detail": "Secure email and the Interoperability Toolkit.",
            "caldicott": "yes",
            "caldicott_detail": "In line with Caldicott 2.",
        },
        "joint_assessment": {
            "confirmation": "We confirm an accountable lead professional for everyone at risk.",
            "high_risk_percent": "2",
            "risk_stratification": "Pragmatic risk stratification, linked to virtual wards.",
            "joint_care_plan_percent": "25.5",
        },
        "metrics": {
            "outcomes": "Fewer emergency admissions and fewer admissions to care homes.",
            "rows": [
                {
                    "name": "Delayed transfers of care",
                    "unit": "delayed days per 100,000 population aged 18+ (monthly average)",
                    "baseline": "285.6",
                    "baseline_date": "2013-03-31",
                    "national": True,
                    "projections": {"2014/15": "270", "2015/16": "257"},
                },
                {
                    "name": "Emergency admissions",
                    "unit": "non-elective admissions per 100,000 population",
                    "baseline": "10950",
                    "baseline_date": "2013-03-31",
                    "national": True,
                    "projections": {"2014/15": "10840", "2015/16": "10620"},
                },
                {
                    "name": "Effectiveness of reablement",
                    "unit": "% of people aged 65+ still at home 91 days after discharge",
                    "baseline": "82",
                    "baseline_date": "2013-03-31",
                    "national": True,
                    "projections": {"2014/15": "84", "2015/16": "86"},
                },
                {
                    "name": "Admissions to residential and nursing care",
                    "unit": "permanent admissions of people aged 65+ per 100,000 aged 65+",
                    "baseline": "780",
                    "baseline_date": "2013-03-31",
                    "national": True,
                    "projections": {"2014/15": "760", "2015/16": "730"},
                },
                {
                    "name": "Patient and service-user experience",
                    "unit": "% of adult social care users satisfied with their care",
                    "baseline": "63",
                    "baseline_date": "2013-03-31",
                    "national": True,
                    "projections": {"2014/15": "64", "2015/16": "65"},
                },
                {
                    "name": "Emergency readmissions within 30 days of discharge",
                    "unit": "% of discharges",
                    "baseline": "11.8",
                    "baseline_date": "2013-03-31",
                    "national": False,
                    "projections": {"2014/15": "11.5", "2015/16": "11"},
                },
            ],
        },
        "risks": {
            "rows": [
                {
                    "description": "The £10.830 million of NHS funding is already committed.",
                    "impact": "H",
                    "probability": "M",
                    "mitigation": "Agree any change of service through the CCG contract.",
                    "owner": f"Accountable Officer, {ccg}",
                    "affects_nhs_providers": True,
                },
                {
                    "description": "Admissions do not fall as planned.",
                    "impact": "M",
                    "probability": "L",
                    "mitigation": "Monthly tracking of the metrics.",
                    "owner": "Integration Board",
                    "affects_nhs_providers": False,
                },
            ]
        },
    }


def scheme(name: str, lead, lead_name: str, spend: dict, benefits: dict, **rest) -> dict:
    return {
        "name": name,
        "scheme_type": rest.get("scheme_type", "reablement"),
        "scheme_type_other": rest.get("scheme_type_other", ""),
        "lead_commissioner": lead,
        "lead_commissioner_name": lead_name,
        "provider": rest.get("provider", ""),
        "stream": rest.get("stream", "s256"),
        "outcomes": rest.get("outcomes", ""),
        "income": rest.get("income", False),
        "spend": spend,
        "benefits": benefits,
    }


def paid(partner: tuple, stream: str, year: str, amount: str) -> dict:
    """A contribution as the grid stored it: by partner id, with the partner's name recorded."""
    pk, name = partner
    return {
        "organisation": pk,
        "organisation_name": name,
        "stream": stream,
        "year": year,
        "amount": amount,
    }


def per_year(baseline: str, *amounts: str) -> dict:
    """Figures for the baseline year and each year of the plan."""
    return dict(zip(["2013/14", *YEARS], [baseline, *amounts], strict=True))


def walsall_fund(la: tuple, ccg: tuple) -> dict:
    """A single-CCG plan shared in proportion to contributions, as the demo's Walsall."""
    (la_id, la_name), (ccg_id, ccg_name) = la, ccg
    return {
        "contributions": {
            "note": "2014/15: the section 256 transfer (£5,124,740) and the additional £1.140m.",
            "amounts": [
                paid(la, "capital", "2015/16", "2000000.00"),
                paid(ccg, "s256", "2014/15", "5124740.00"),
                paid(ccg, "s256", "2015/16", "5124740.00"),
                paid(ccg, "additional", "2014/15", "1140000.00"),
                paid(ccg, "nhs", "2015/16", "10830000.55"),
            ],
        },
        "arrangements": {
            "host_partner": la_id,
            "host_partner_name": la_name,
            "fund_manager": "Andy Rust, Head of Joint Commissioning",
            "risk_share_basis": "proportional",
            "materiality_threshold": "250000.00",
            "notice_days": 10,
            "share_names": {str(la_id): la_name, str(ccg_id): ccg_name},
            "shares": {},
        },
        "schemes": {
            "rows": [
                scheme(
                    "Home from hospital & community reablement (2yr contract from 05/03/12)",
                    la_id,
                    la_name,
                    {"2014/15": "80000.00", "2015/16": "80000.00"},
                    {"2014/15": "", "2015/16": ""},
                    provider="Seva Care",
                    outcomes="People with dementia return home safely and stay there.",
                ),
                scheme(
                    "SWIFT Discharge Unit",
                    ccg_id,
                    ccg_name,
                    {"2014/15": "", "2015/16": "1710000.00"},
                    {"2014/15": "", "2015/16": "400000.00"},
                    stream="reablement",
                    scheme_type="intermediate_care",
                ),
                scheme(
                    "Client contributions to care packages",
                    la_id,
                    la_name,
                    {"2014/15": "25000.50", "2015/16": "25000.50"},
                    {"2014/15": "", "2015/16": ""},
                    income=True,
                    scheme_type="other",
                    scheme_type_other="Income from charges",
                ),
            ]
        },
        "spend": {
            "note": "Planning estimates; benefits as in the contingency plan.",
            "lines": {
                f"ccg_{ccg_id}": {
                    "spend": per_year("338000000.00", "345000000.00", "351000000.00"),
                    "benefits": {"2015/16": "1600000.00"},
                },
                "primary_care": {
                    "spend": per_year("38500000.00", "39000000.00", "39500000.00"),
                    "benefits": {},
                },
                "la_social_services": {
                    "spend": per_year("72400000.00", "71100000.00", "70300000.00"),
                    "benefits": {"2014/15": "100000.00", "2015/16": "350000.00"},
                },
            },
            "line_labels": {
                f"ccg_{ccg_id}": ccg_name,
                "primary_care": "Primary Care",
                "la_social_services": "Local Authority Social Services",
            },
        },
        "contingency": {
            "plan_text": "The CCG keeps its 0.5% contingency fund until performance is confirmed.",
            "rows": [
                {
                    "outcome": "Fewer non-elective admissions",
                    "savings": {"2015/16": "1200000.00", "ongoing": "1500000.00"},
                    "support": {"2015/16": "1200000.00", "ongoing": "1500000.00"},
                },
                {
                    "outcome": "Fewer permanent admissions to residential and nursing care",
                    "savings": {"2015/16": "350000.00", "ongoing": "450000.00"},
                    "support": {"2015/16": "", "ongoing": "450000.00"},
                },
            ],
        },
    }


def devon_fund(la: tuple, north: tuple, south: tuple) -> dict:
    """Two CCGs, agreed shares, a scheme with no lead and an outcome without figures."""
    (la_id, la_name), (n_id, n_name), (s_id, s_name) = la, north, south
    return {
        "contributions": {
            "note": "",
            "amounts": [
                paid(north, "s256", "2014/15", "9800000.00"),
                paid(south, "s256", "2014/15", "3200000.00"),
                paid(north, "carers", "2015/16", "1150000.00"),
                paid(la, "other", "2015/16", "0.00"),
            ],
        },
        "arrangements": {
            "host_partner": la_id,
            "host_partner_name": la_name,
            "fund_manager": "Head of Integrated Commissioning",
            "risk_share_basis": "agreed",
            "materiality_threshold": "500000.00",
            "notice_days": 15,
            "share_names": {str(la_id): la_name, str(n_id): n_name, str(s_id): s_name},
            "shares": {str(la_id): "40", str(n_id): "45.5", str(s_id): "14.5"},
        },
        "schemes": {
            "rows": [
                scheme(
                    "Integrated care teams, Northern Devon",
                    n_id,
                    n_name,
                    {"2014/15": "4000000.00", "2015/16": "4200000.00"},
                    {"2014/15": "150000.00", "2015/16": "310000.00"},
                    scheme_type="integrated_teams",
                    provider="Northern Devon Healthcare NHS Trust",
                ),
                scheme(
                    "Carers' breaks across the county",
                    None,
                    "",
                    {"2015/16": "1150000.00"},
                    {},
                    scheme_type="carers",
                    stream="carers",
                    outcomes="Carers able to keep caring.\nAnd to have a life of their own.",
                ),
            ]
        },
        "spend": {
            "note": "",
            "lines": {
                f"ccg_{n_id}": {"spend": {"2014/15": "610000000.00"}, "benefits": {}},
                f"ccg_{s_id}": {"spend": {"2014/15": "390000000.00"}, "benefits": {}},
                "la_public_health": {"spend": {}, "benefits": {}},
            },
            "line_labels": {
                f"ccg_{n_id}": n_name,
                f"ccg_{s_id}": s_name,
                "la_public_health": "Local Authority Public Health",
            },
        },
        "contingency": {
            "plan_text": "",
            "rows": [{"outcome": "Fewer delayed transfers of care", "savings": {}, "support": {}}],
        },
    }


# ---- Writing them through the migration state of the day ---------------------------------------


def plans_written_then(apps) -> dict:
    """Three areas: Walsall signed (a seal, its signatures, its decisions), Devon in Drafting
    with parts saved twice and a workbook import waiting, Rotherham with nothing saved yet."""
    User = apps.get_model(settings.AUTH_USER_MODEL)
    Organisation = apps.get_model("plans", "Organisation")
    Area = apps.get_model("plans", "Area")
    Partnership = apps.get_model("plans", "Partnership")
    PlanningRound = apps.get_model("plans", "PlanningRound")
    OldPlan = apps.get_model("plans", "Plan")
    OldPart = apps.get_model("plans", "Part")
    HistoricalPart = apps.get_model("plans", "HistoricalPart")
    OldImport = apps.get_model("plans", "PlanImport")
    Allocation = apps.get_model("finance", "Allocation")
    OldSeal = apps.get_model("governance", "Seal")
    Decision = apps.get_model("governance", "Decision")
    Signature = apps.get_model("governance", "Signature")

    author = User.objects.create(username="finance-lead", first_name="Pat", last_name="Lee")
    # The round may be there already: the test database's migrations made it.
    round_, _ = PlanningRound.objects.get_or_create(slug=ROUND["slug"], defaults=ROUND)
    clock = iter(START + timedelta(hours=n) for n in range(10_000))
    written = {}

    def area(name: str, council: str, ccgs: list[str]):
        made = Area.objects.create(name=name, slug=name.lower(), boundary_differences="None.")
        partners = [Organisation.objects.create(name=council, kind="la")]
        partners += [Organisation.objects.create(name=n, kind="ccg") for n in ccgs]
        for organisation in partners:
            Partnership.objects.create(area=made, organisation=organisation)
        return made, [(o.pk, o.name) for o in partners], partners

    def plan(made, versions: dict, state: str = "drafting"):
        """`versions`: each part's content at each of its saves, oldest first."""
        plan = OldPlan.objects.create(area=made, round=round_, state=state)
        for key in PartKey.values:
            saves = versions.get(key, [])
            part = OldPart.objects.create(plan=plan, key=key, content={})
            HistoricalPart.objects.create(
                **_history_fields(part), history_date=next(clock), history_type="+"
            )
            for number, content in enumerate(saves, start=1):
                part.content, part.version = content, number
                part.status = "complete" if number == len(saves) else "in_progress"
                part.updated_at, part.updated_by = next(clock), author
                part.save()
                HistoricalPart.objects.create(
                    **_history_fields(part),
                    history_date=part.updated_at,
                    history_type="~",
                    history_user=author,
                    history_change_reason=f"Saved {key} (version {number})",
                )
        written[made.slug] = {
            "plan": plan.pk,
            "parts": {key: (versions.get(key) or [{}])[-1] for key in PartKey.values},
        }
        return plan

    # Walsall: every part saved once, then sealed and signed by both partners.
    walsall, (la, ccg), partners = area("Walsall", "Walsall Council", ["NHS Walsall CCG"])
    content = narrative("Walsall", la[1], ccg[1]) | walsall_fund(la, ccg)
    sealed_plan = plan(walsall, {key: [value] for key, value in content.items()}, "signed")
    for year, minimum in ((2014, "6264740.00"), (2015, "21544740.00")):
        Allocation.objects.create(area=walsall, round=round_, year=year, minimum=minimum)
    snapshot = {
        "plan": sealed_plan.pk,
        "sealed_version": 1,
        "area": {"name": "Walsall", "slug": "walsall", "boundary_differences": "None."},
        "round": {
            "slug": ROUND["slug"],
            "name": ROUND["name"],
            "baseline": "2013/14",
            "years": YEARS,
        },
        "partners": [{"id": o.pk, "name": o.name, "kind": o.kind} for o in partners],
        "allocations": {
            "2014/15": {"minimum": "6264740.00", "performance_element": "0.00"},
            "2015/16": {"minimum": "21544740.00", "performance_element": "0.00"},
        },
        "parts": {
            key: {"version": 1, "status": "complete", "content": content[key]}
            for key in sorted(content)
        },
    }
    seal = OldSeal.objects.create(
        plan=sealed_plan,
        number=1,
        snapshot=snapshot,
        digest=sealed_then(snapshot),
        created_by=author,
    )
    for action, before, after in (
        ("submitted_for_signoff", "drafting", "awaiting_signoff"),
        ("signed_by_all", "awaiting_signoff", "signed"),
    ):
        Decision.objects.create(
            plan=sealed_plan,
            actor=author,
            action=action,
            from_state=before,
            to_state=after,
            seal=seal,
        )
    for organisation in partners:
        Signature.objects.create(
            seal=seal,
            organisation=organisation,
            user=author,
            name="Pat Lee",
            position=f"Director, {organisation.name}",
        )

    # Devon: two CCGs; the schemes and the contributions saved twice; an import waiting.
    devon, (la, north, south), _ = area(
        "Devon",
        "Devon County Council",
        ["NHS Northern, Eastern and Western Devon CCG", "NHS South Devon and Torbay CCG"],
    )
    content = narrative("Devon", la[1], north[1]) | devon_fund(la, north, south)
    versions = {key: [value] for key, value in content.items()}
    first_schemes = {"rows": content["schemes"]["rows"][:1]}
    first_schemes["rows"][0] = first_schemes["rows"][0] | {"benefits": {"2014/15": "1.00"}}
    versions["schemes"] = [first_schemes, content["schemes"]]
    versions["contributions"] = [
        {"note": "First figures.", "amounts": content["contributions"]["amounts"][:1]},
        content["contributions"],
    ]
    versions["vision"] = []  # never saved
    drafting = plan(devon, versions)
    imported = json.loads(json.dumps(content["schemes"]))
    imported["rows"][1]["spend"]["2015/16"] = "1200000.00"
    OldImport.objects.create(
        plan=drafting,
        user=author,
        file_name="Devon ITF plan (edited).xlsx",
        parts={
            "schemes": {
                "base_version": 2,
                "content": imported,
                "status": "complete",
                "conflict": "",
            },
            "vision": {
                "base_version": 0,
                "content": {"text": "From the workbook: at home."},
                "status": "in_progress",
                "conflict": "Pat Lee changed this on 6 January 2014",
            },
        },
    )

    # Rotherham: its plan made, nothing saved.
    rotherham, _, _ = area(
        "Rotherham", "Rotherham Metropolitan Borough Council", ["NHS Rotherham CCG"]
    )
    plan(rotherham, {})

    written["seal"] = {"pk": seal.pk, "digest": seal.digest, "snapshot": snapshot}
    return written


def _history_fields(part) -> dict:
    """The part's fields as django-simple-history copies them into an entry."""
    names = ("plan_id", "key", "content", "version", "status", "assignee_id", "due_date")
    names += ("updated_at", "updated_by_id")
    return {"id": part.pk} | {name: getattr(part, name) for name in names}


# ---- Reading what the database holds -------------------------------------------------------------


def every_row() -> dict:
    """Every row of every table (the migrations' own record left out), by table and primary key,
    each as the JSON of its columns: what the database holds, whatever the models say."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table == "django_migrations":
                continue
            key = connection.introspection.get_primary_key_columns(cursor, table) or []
            cursor.execute(f'SELECT to_jsonb(t)::text FROM "{table}" t')  # noqa: S608
            rows = [json.loads(text) for (text,) in cursor.fetchall()]
            found[table] = {tuple(row[k] for k in key) or json.dumps(row): row for row in rows}
    return found


def _money(value) -> Decimal | None:
    return None if value in ("", None) else Decimal(value)


def figures_of_content(parts: dict) -> Counter:
    """Every text and figure of a plan's fund parts, read from the content alone (never through
    `finance.fund`, the code under test); blank figures are no figures."""
    found: Counter = Counter()
    for entry in parts["contributions"].get("amounts", []):
        found[
            "contribution",
            entry["organisation"],
            entry["organisation_name"],
            entry["stream"],
            entry["year"],
            Decimal(entry["amount"]),
        ] += 1
    for position, row in enumerate(parts["schemes"].get("rows", [])):
        texts = ("name", "scheme_type", "scheme_type_other", "lead_commissioner")
        texts += ("lead_commissioner_name", "provider", "stream", "outcomes", "income")
        found[("scheme", position, *(row[t] for t in texts))] += 1
        for field in ("spend", "benefits"):
            for year, value in row[field].items():
                if _money(value) is not None:
                    found["scheme amount", position, year, field, Decimal(value)] += 1
    labels = parts["spend"].get("line_labels", {})
    for line, values in parts["spend"].get("lines", {}).items():
        for field in ("spend", "benefits"):
            for year, value in values[field].items():
                if _money(value) is not None:
                    found["spend", line, labels.get(line, ""), year, field, Decimal(value)] += 1
    for position, row in enumerate(parts["contingency"].get("rows", [])):
        found["outcome", position, row["outcome"]] += 1
        for field in ("savings", "support"):
            for period, value in row[field].items():
                if _money(value) is not None:
                    found["contingency", position, period, field, Decimal(value)] += 1
    if arrangements := parts["arrangements"]:
        found[
            "arrangement",
            arrangements["host_partner"],
            arrangements["host_partner_name"],
            arrangements["fund_manager"],
            arrangements["risk_share_basis"],
            _money(arrangements["materiality_threshold"]),
            arrangements["notice_days"],
        ] += 1
        for pk, share in arrangements["shares"].items():
            name = arrangements["share_names"][pk]
            found["share", int(pk), name, Decimal(share)] += 1
    return +found


def figures_in_tables(plan_id: int) -> Counter:
    """The same, read from the fund's tables."""
    found: Counter = Counter()
    for row in fund.Contribution.objects.filter(plan_id=plan_id):
        found[
            "contribution",
            row.organisation_id,
            row.organisation_name,
            row.stream,
            row.year,
            row.amount,
        ] += 1
    for s in fund.Scheme.objects.filter(plan_id=plan_id).prefetch_related("amounts"):
        texts = (s.name, s.scheme_type, s.scheme_type_other, s.lead_id, s.lead_name)
        found[("scheme", s.position, *texts, s.provider, s.stream, s.outcomes, s.income)] += 1
        for amount in s.amounts.all():
            for field in ("spend", "benefits"):
                if (value := getattr(amount, field)) is not None:
                    found["scheme amount", s.position, amount.year, field, value] += 1
    for row in fund.SpendAmount.objects.filter(plan_id=plan_id):
        for field in ("spend", "benefits"):
            if (value := getattr(row, field)) is not None:
                found["spend", row.line, row.label, row.year, field, value] += 1
    for outcome in fund.ContingencyOutcome.objects.filter(plan_id=plan_id).prefetch_related(
        "amounts"
    ):
        found["outcome", outcome.position, outcome.outcome] += 1
        for amount in outcome.amounts.all():
            for field in ("savings", "support"):
                if (value := getattr(amount, field)) is not None:
                    found["contingency", outcome.position, amount.period, field, value] += 1
    for a in fund.Arrangement.objects.filter(plan_id=plan_id):
        found[
            "arrangement",
            a.host_id,
            a.host_name,
            a.fund_manager,
            a.risk_share_basis,
            a.materiality_threshold,
            a.notice_days,
        ] += 1
    for row in fund.RiskShare.objects.filter(plan_id=plan_id):
        found["share", row.organisation_id, row.organisation_name, row.share] += 1
    return found


def refused(key: str, content: dict) -> str:
    try:
        content_check(key, content, YEARS)
    except Exception as error:  # noqa: BLE001 - any refusal is the finding
        return f"{key}: {error}"
    return ""


# ---- The test ---------------------------------------------------------------------------------


@pytest.fixture
def migrator(transactional_db):
    """A migration executor on the test database, put back at the latest migrations afterwards
    whatever happened, so the tests after this one find the schema they expect."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    yield executor, latest
    executor = MigrationExecutor(connection)
    if executor.migration_plan(latest):
        try:
            executor.migrate(latest)
        except Exception:  # noqa: BLE001 - the test has failed on it already
            # A migration that failed on these rows fails again: empty the tables, then go on.
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            MigrationExecutor(connection).migrate(latest)


def test_plans_seals_history_and_imports_written_before_the_fund_tables_arrive_unchanged(
    migrator, client
):
    executor, latest = migrator
    executor.migrate(BEFORE + UNAPPLIED_BEFORE)
    executor.loader.build_graph()
    written = plans_written_then(executor.loader.project_state(BEFORE).apps)
    before = every_row()
    assert "finance_scheme" not in before  # the state before the tables, indeed

    MigrationExecutor(connection).migrate(latest)
    assert not MigrationExecutor(connection).migration_plan(latest)

    # Nothing lost, nothing changed, nothing invented: every row of every table that was there,
    # column for column (the JSON's text included), and no other row.
    after = every_row()
    for table, rows in before.items():
        lost, new = set(rows) - set(after[table]), set(after[table]) - set(rows)
        assert not lost and not new, (table, "lost", lost, "new", new)
        for pk, row in rows.items():
            now = after[table][pk]
            assert set(row) <= set(now), (table, pk, "columns lost", set(row) - set(now))
            assert {column: now[column] for column in row} == row, (table, pk)

    # Every part holds what was written, and passes today's description of it; so does every
    # history entry, every part of the seal's snapshot and of the waiting import.
    parts = dict(
        ((plan, key), content)
        for plan, key, content in Part.objects.values_list("plan_id", "key", "content")
    )
    assert len(parts) == 3 * len(PartKey.values)
    for area in ("walsall", "devon", "rotherham"):
        plan = written[area]
        for key, content in plan["parts"].items():
            assert parts[plan["plan"], key] == content, (area, key)
    sealed = Seal.objects.get(pk=written["seal"]["pk"])
    pending = PlanImport.objects.get(plan_id=written["devon"]["plan"])
    checked = [(key, content) for (_, key), content in parts.items()]
    checked += [(entry.key, entry.content) for entry in Part.history.all()]
    checked += [(key, part["content"]) for key, part in sealed.snapshot["parts"].items()]
    checked += [(key, change["content"]) for key, change in pending.parts.items()]
    # 60 parts; 101 history entries (60 parts made, 20 saves of Walsall's, 21 of Devon's); the
    # 20 sealed parts; the 2 imported.
    assert len(checked) == 60 + 101 + 20 + 2
    assert [problem for key, content in checked if (problem := refused(key, content))] == []

    # The history of a part saved twice: each version's content, in order.
    devon_schemes = Part.history.filter(plan_id=written["devon"]["plan"], key="schemes")
    versions = [e.content.get("rows", []) for e in devon_schemes.order_by("history_date")]
    assert [len(rows) for rows in versions] == [0, 1, 2]
    assert versions[1][0]["benefits"] == {"2014/15": "1.00"}

    # The fund's tables hold exactly the texts and figures of the parts saved, plan by plan,
    # and nothing for a plan with nothing saved; the SQL totals are the rules' totals.
    plan_ids = [written[area]["plan"] for area in ("walsall", "devon", "rotherham")]
    totals = fund_totals(plan_ids, YEARS)
    for area in ("walsall", "devon", "rotherham"):
        plan = written[area]
        saved = {key: plan["parts"][key] for key in FUND_KEYS}
        expected = figures_of_content(saved)
        assert figures_in_tables(plan["plan"]) == expected, area
        assert bool(expected) == (area != "rotherham")
        assert totals[plan["plan"]].pooled == pooled_budget(saved["contributions"], YEARS)
        assert totals[plan["plan"]].net_spend == scheme_net_spend(saved["schemes"], YEARS)
        assert totals[plan["plan"]].schemes == len(saved["schemes"].get("rows", []))
    walsall = totals[written["walsall"]["plan"]]
    assert walsall.pooled == {"2014/15": Decimal("6264740.00"), "2015/16": Decimal("17954740.55")}
    assert walsall.net_spend == {"2014/15": Decimal("54999.50"), "2015/16": Decimal("1764999.50")}

    # The old seal still verifies: found by its digest, the digest of its snapshot, which reads
    # as it was sealed; and the page that checks a printed seal names it and its signatures.
    found = seal_find(written["seal"]["digest"])
    assert found is not None and found.pk == sealed.pk
    assert seal_digest(found.snapshot) == found.digest == written["seal"]["digest"]
    assert found.snapshot == written["seal"]["snapshot"]
    assert Plan.objects.get(pk=written["walsall"]["plan"]).state == "signed"
    client.force_login(get_user_model().objects.create(username="checker"))
    page = client.get(reverse("verify"), {"seal": found.digest}).content.decode()
    assert "Sealed version 1 of the Walsall plan" in page
    assert page.count("Stands") == 2

    # The waiting import: its parts as they were previewed, and nothing said to be left out.
    assert pending.left_out == []
    assert set(pending.parts) == {"schemes", "vision"}
    assert pending.parts["schemes"]["content"]["rows"][1]["spend"]["2015/16"] == "1200000.00"
