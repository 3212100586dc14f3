"""The pooled fund's parts kept in tables: each fund part's checked content written as rows of
`finance.models`, and the fund's totals summed in SQL.

`fund_store` is the only writer of those tables. It runs inside the transaction that saves the
part (`finance.services.part_save`), after the content has passed the part's description, so a
part's rows are always exactly its saved content; the database's constraints guard the rest.
The data migration that first filled the tables calls it too, with the migration's models.
"""

from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, F, Sum, When

from finance import models as current
from itf_portal.money import money_stored
from plans.constants import PartKey
from plans.template import PARTS

# The parts whose content lives in the fund's tables, as the description marks them.
FUND_PARTS = tuple(spec.key for spec in PARTS if spec.in_tables)
TABLES = SimpleNamespace(
    Contribution=current.Contribution,
    Scheme=current.Scheme,
    SchemeAmount=current.SchemeAmount,
    SpendAmount=current.SpendAmount,
    ContingencyOutcome=current.ContingencyOutcome,
    ContingencyAmount=current.ContingencyAmount,
    Arrangement=current.Arrangement,
    RiskShare=current.RiskShare,
    Organisation=current.Organisation,
)


def _known(tables, ids: set) -> None:
    """Refuse content that names an organisation that does not exist (the shell, a restore)."""
    ids = {pk for pk in ids if pk not in ("", None)}
    found = set(tables.Organisation.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if missing := ids - found:
        raise ValidationError(
            f"This names a partner that does not exist: {', '.join(map(str, sorted(missing)))}."
        )


def fund_store(plan_id: int, key: str, content: dict, *, tables=TABLES) -> None:
    """Replace the plan's rows of one fund part by its (checked) content."""
    if key == PartKey.CONTRIBUTIONS:
        amounts = content.get("amounts", [])
        _known(tables, {entry["organisation"] for entry in amounts})
        tables.Contribution.objects.filter(plan_id=plan_id).delete()
        tables.Contribution.objects.bulk_create(
            tables.Contribution(
                plan_id=plan_id,
                organisation_id=entry["organisation"],
                organisation_name=entry.get("organisation_name", ""),
                stream=entry["stream"],
                year=entry["year"],
                amount=Decimal(entry["amount"]),
            )
            for entry in amounts
        )
    elif key == PartKey.SCHEMES:
        rows = content.get("rows", [])
        _known(tables, {row.get("lead_commissioner") for row in rows})
        tables.Scheme.objects.filter(plan_id=plan_id).delete()
        schemes = tables.Scheme.objects.bulk_create(
            tables.Scheme(
                plan_id=plan_id,
                position=position,
                name=row.get("name", ""),
                scheme_type=row.get("scheme_type", ""),
                scheme_type_other=row.get("scheme_type_other", ""),
                lead_id=row.get("lead_commissioner") or None,
                lead_name=row.get("lead_commissioner_name", ""),
                provider=row.get("provider", ""),
                stream=row.get("stream", ""),
                outcomes=row.get("outcomes", ""),
                income=bool(row.get("income")),
            )
            for position, row in enumerate(rows)
        )
        tables.SchemeAmount.objects.bulk_create(
            tables.SchemeAmount(
                scheme_id=scheme.pk,
                year=year,
                spend=money_stored((row.get("spend") or {}).get(year)),
                benefits=money_stored((row.get("benefits") or {}).get(year)),
            )
            for scheme, row in zip(schemes, rows, strict=True)
            for year in dict.fromkeys([*(row.get("spend") or {}), *(row.get("benefits") or {})])
        )
    elif key == PartKey.SPEND:
        labels = content.get("line_labels", {})
        tables.SpendAmount.objects.filter(plan_id=plan_id).delete()
        tables.SpendAmount.objects.bulk_create(
            tables.SpendAmount(
                plan_id=plan_id,
                line=line,
                label=labels.get(line, ""),
                year=year,
                spend=money_stored((values.get("spend") or {}).get(year)),
                benefits=money_stored((values.get("benefits") or {}).get(year)),
            )
            for line, values in content.get("lines", {}).items()
            for year in dict.fromkeys(
                [*(values.get("spend") or {}), *(values.get("benefits") or {})]
            )
        )
    elif key == PartKey.CONTINGENCY:
        rows = content.get("rows", [])
        tables.ContingencyOutcome.objects.filter(plan_id=plan_id).delete()
        outcomes = tables.ContingencyOutcome.objects.bulk_create(
            tables.ContingencyOutcome(plan_id=plan_id, position=position, outcome=row["outcome"])
            for position, row in enumerate(rows)
        )
        tables.ContingencyAmount.objects.bulk_create(
            tables.ContingencyAmount(
                outcome_id=outcome.pk,
                period=period,
                savings=money_stored((row.get("savings") or {}).get(period)),
                support=money_stored((row.get("support") or {}).get(period)),
            )
            for outcome, row in zip(outcomes, rows, strict=True)
            for period in dict.fromkeys([*(row.get("savings") or {}), *(row.get("support") or {})])
        )
    elif key == PartKey.ARRANGEMENTS:
        shares = content.get("shares") or {}
        _known(tables, {content.get("host_partner")} | {int(pk) for pk in shares})
        tables.Arrangement.objects.update_or_create(
            plan_id=plan_id,
            defaults={
                "host_id": content.get("host_partner") or None,
                "host_name": content.get("host_partner_name", ""),
                "fund_manager": content.get("fund_manager", ""),
                "risk_share_basis": content.get("risk_share_basis", ""),
                "materiality_threshold": money_stored(content.get("materiality_threshold")),
                "notice_days": content.get("notice_days") or None,
            },
        )
        names = content.get("share_names") or {}
        tables.RiskShare.objects.filter(plan_id=plan_id).delete()
        tables.RiskShare.objects.bulk_create(
            tables.RiskShare(
                plan_id=plan_id,
                organisation_id=int(pk),
                organisation_name=names.get(pk, ""),
                share=Decimal(share),
            )
            for pk, share in shares.items()
            if share not in ("", None)
        )
    else:
        raise ValueError(f"{key} is not a part of the pooled fund")


# ---- Totals, summed in SQL ----------------------------------------------------------------


@dataclass
class FundTotals:
    """One plan's fund figures by year: the pooled budget, by stream, and the schemes' net spend."""

    pooled: dict  # year -> Decimal
    by_stream: dict  # (stream, year) -> Decimal
    schemes: int
    net_spend: dict  # year -> Decimal


def fund_totals(plan_ids: list[int], year_labels: list[str]) -> dict[int, FundTotals]:
    """The fund's figures of each plan, in three queries however many plans and rows."""
    zero = Decimal(0)
    totals = {
        pk: FundTotals({y: zero for y in year_labels}, {}, 0, {y: zero for y in year_labels})
        for pk in plan_ids
    }
    for row in (
        current.Contribution.objects.filter(plan_id__in=plan_ids)
        .values("plan_id", "stream", "year")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        figures = totals[row["plan_id"]]
        figures.by_stream[row["stream"], row["year"]] = row["total"]
        if row["year"] in figures.pooled:
            figures.pooled[row["year"]] += row["total"]
    for row in (
        current.Scheme.objects.filter(plan_id__in=plan_ids)
        .values("plan_id")
        .annotate(count=Count("id"))
        .order_by()
    ):
        totals[row["plan_id"]].schemes = row["count"]
    net = Case(When(scheme__income=True, then=-F("spend")), default=F("spend"))
    for row in (
        current.SchemeAmount.objects.filter(scheme__plan_id__in=plan_ids, spend__isnull=False)
        .values("scheme__plan_id", "year")
        .annotate(net=Sum(net))
        .order_by()
    ):
        figures = totals[row["scheme__plan_id"]]
        if row["year"] in figures.net_spend:
            figures.net_spend[row["year"]] = row["net"]
    return totals
