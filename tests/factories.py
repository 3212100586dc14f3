"""Factories that build through the domain functions, so tests meet the same rules as users."""

import factory
from django.contrib.auth import get_user_model

from governance.services import membership_add
from plans.constants import OrganisationKind
from plans.models import Organisation
from plans.services import area_save

PASSWORD = "Correct-Horse-2014"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Council {n}")
    kind = OrganisationKind.LOCAL_AUTHORITY


def area_make(name: str, *, ccg_count: int = 1, ccgs=None):
    council = OrganisationFactory(name=f"{name} Council")
    ccgs = ccgs or [
        OrganisationFactory(name=f"NHS {name} CCG {i + 1}", kind=OrganisationKind.CCG)
        for i in range(ccg_count)
    ]
    return area_save(name=name, slug=name.lower(), partners=[council, *ccgs])


def member_make(area, role: str, *, organisation=None, user=None, **user_fields):
    user = user or UserFactory(**user_fields)
    organisation = organisation or area.partners.order_by("-kind").first()
    membership_add(area=area, organisation=organisation, user=user, role=role)
    return user


def date_typed(name: str, iso: str) -> dict:
    """What a person types in a date's day, month and year inputs: "2014-01-10" as 10, 1, 2014."""
    year, month, day = iso.split("-")
    return {
        f"{name}_day": day.lstrip("0"),
        f"{name}_month": month.lstrip("0"),
        f"{name}_year": year,
    }


def part_post_data(plan, key: str, content: dict, *, status="in_progress", version=None) -> dict:
    """The POST a browser sends for a part's form showing this content."""
    from itf_portal.forms import form_data
    from plans.registry import PART_BY_KEY

    part = plan.parts.get(key=key)
    form = PART_BY_KEY[key].form(
        plan=plan,
        content=content,
        version=part.version if version is None else version,
        status=status,
    )
    return form_data(form)


def row_url(plan, key: str, number: int | None = None, suffix: str = "") -> str:
    """A row's own page of a long table part (schemes, key risks); no number: adding one."""
    from django.urls import reverse

    part = reverse(
        "part", kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, "key": key}
    )
    return part + "rows/" + (f"{number}/" if number else "new/") + suffix


def row_post_data(plan, key: str, row: dict, *, number=None, position=None, version=None) -> dict:
    """The POST a browser sends from a row's own page showing this row: row `number` as it is
    stored now, or a new row (no number)."""
    from itf_portal.forms import form_data
    from plans.parts import row_page_form
    from plans.registry import PART_BY_KEY
    from plans.views.rows import row_initial

    spec = PART_BY_KEY[key]
    part = plan.parts.get(key=key)
    rows = spec.content.rows_shown(part.content)
    form_class = row_page_form(spec.form.row_form)
    initial = {
        **row_initial(form_class, plan, part, rows, number),
        **form_class.initial_from(row, plan),  # what the person typed over the stored row
    }
    if version is not None:
        initial["base_version"] = version
    if position:
        initial["position"] = position
    return form_data(form_class(plan=plan, initial=initial, prefix="row", count=len(rows) + 1))


def rows_add(client, plan, key: str, rows: list[dict]) -> None:
    """Add each row through its own page, as a person does."""
    for row in rows:
        response = client.post(row_url(plan, key), row_post_data(plan, key, row))
        assert response.status_code == 302, response.content.decode()[:2000]


def plan_make_ready(plan, user):
    """Fill every part of the plan as complete, set the minimums and give every partner a
    signatory: a plan that passes every readiness check."""
    from decimal import Decimal

    from finance.models import Allocation
    from finance.services import part_save
    from governance.constants import Role
    from plans.constants import NATIONAL_METRICS

    years = plan.round.year_labels
    ccg = next(o for o in plan.partner_organisations if not o.is_local_authority)
    content = {
        "summary": {"boundary_differences": "None"},
        "related_documents": {"rows": []},
        "protecting_social_care": {"local_definition": "Eligible needs", "how_protected": "Funded"},
        "seven_day_services": {"strategic_commitment": "Yes", "local_plans": "By April 2015"},
        "data_sharing": {"nhs_number_used": "yes", "open_apis": "yes", "caldicott": "yes"},
        "joint_assessment": {
            "confirmation": "Yes",
            "high_risk_percent": "3.5",
            "risk_stratification": "A tool",
            "joint_care_plan_percent": "80",
        },
        "metrics": {
            "outcomes": "Fewer admissions",
            "rows": [
                {
                    "name": name,
                    "national": True,
                    "unit": "per 100,000",
                    "baseline": "100",
                    "baseline_date": "2013-03-31",
                    "projections": dict.fromkeys(years, "90"),
                }
                for name in NATIONAL_METRICS
            ],
        },
        "contributions": {
            "amounts": [
                {"organisation": ccg.pk, "stream": "nhs", "year": year, "amount": "1000.00"}
                for year in years
            ]
        },
        "arrangements": {"host_partner": ccg.pk, "fund_manager": "A manager"},
        "schemes": {
            "rows": [
                {
                    "name": "Reablement",
                    "scheme_type": "reablement",
                    "income": False,
                    "spend": dict.fromkeys(years, "1000.00"),
                    "benefits": {},
                }
            ]
        },
        "spend": {"lines": {}},
        "contingency": {"plan_text": "Hold back", "rows": []},
        "risks": {"rows": [{"description": "Risk", "impact": "M", "probability": "L"}]},
    }
    for part in plan.parts.all():
        part_save(
            part=part,
            content=content.get(part.key, {"text": "Our answer."}),
            status="complete",
            base_version=part.version,
            user=user,
        )
    for year in range(plan.round.first_year, plan.round.last_year + 1):
        Allocation.objects.update_or_create(
            area=plan.area,
            round=plan.round,
            year=year,
            defaults={"minimum": Decimal("1000"), "performance_element": Decimal("0")},
        )
    for organisation in plan.partner_organisations:
        member_make(plan.area, Role.SIGNATORY, organisation=organisation)
    return plan


def synthetic_areas(count: int, planning_round, prefix: str = "Area") -> list:
    """`count` areas, each with a council and a CCG and a drafted plan: contributions in every
    year, three schemes (one an income line) and the national metrics' baselines. Made in bulk,
    so 151 areas take a moment."""
    from finance.fund import fund_store
    from plans.constants import NATIONAL_METRICS, OrganisationKind, PartKey
    from plans.models import Area, Organisation, Part, Partnership, Plan
    from plans.template import content_check

    years = planning_round.year_labels
    areas = Area.objects.bulk_create(
        [Area(name=f"{prefix} {n:03}", slug=f"{prefix.lower()}-{n:03}") for n in range(count)]
    )
    councils = Organisation.objects.bulk_create(
        [
            Organisation(name=f"{prefix} {n:03} Council", kind=OrganisationKind.LOCAL_AUTHORITY)
            for n in range(count)
        ]
    )
    ccgs = Organisation.objects.bulk_create(
        [
            Organisation(name=f"NHS {prefix} {n:03} CCG", kind=OrganisationKind.CCG)
            for n in range(count)
        ]
    )
    Partnership.objects.bulk_create(
        [
            Partnership(area=a, organisation=o)
            for a, c, g in zip(areas, councils, ccgs, strict=True)
            for o in (c, g)
        ]
    )
    plans = Plan.objects.bulk_create([Plan(area=a, round=planning_round) for a in areas])
    parts = []
    for n, (plan, council, ccg) in enumerate(zip(plans, councils, ccgs, strict=True)):
        amount = 1000 * (n + 1)
        content = {
            PartKey.CONTRIBUTIONS: {
                "amounts": [
                    {
                        "organisation": org.pk,
                        "organisation_name": org.name,
                        "stream": stream,
                        "year": year,
                        "amount": f"{amount}.00",
                    }
                    for org, stream in ((council, "s256"), (ccg, "nhs"))
                    for year in years
                ]
            },
            PartKey.SCHEMES: {
                "rows": [
                    {
                        "name": f"Scheme {i}",
                        "scheme_type": "reablement",
                        "income": i == 2,
                        "spend": dict.fromkeys(years, f"{amount}.00"),
                        "benefits": {},
                    }
                    for i in range(3)
                ]
            },
            PartKey.METRICS: {
                "rows": [
                    {
                        "name": name,
                        "national": True,
                        "unit": "per 100,000",
                        "baseline": str(100 + n),
                        "baseline_date": "2013-03-31",
                        "projections": dict.fromkeys(years, str(90 + n)),
                    }
                    for name in NATIONAL_METRICS
                ]
            },
        }
        # Through the description's check, as every save is, so this content cannot drift from
        # the shape the template describes.
        content = {key: content_check(key, value, years) for key, value in content.items()}
        parts += [Part(plan=plan, key=key, content=content.get(key, {})) for key in PartKey.values]
        # The fund's parts are kept in its tables too, as a save would keep them.
        for key in (PartKey.CONTRIBUTIONS, PartKey.SCHEMES):
            fund_store(plan.pk, key, content[key])
    Part.objects.bulk_create(parts)
    return areas
