from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from simple_history.models import HistoricalRecords

from itf_portal.years import year_label
from plans.constants import FundingStream, RiskShareBasis, SchemeType
from plans.models import Area, Organisation, Plan, PlanningRound


class Allocation(models.Model):
    """What the area must pool in a year, set nationally: the minimum value of the pooled budget
    and, within it, the element paid for performance."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="allocations")
    round = models.ForeignKey(PlanningRound, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(help_text="The calendar year the financial year starts")
    minimum = models.DecimalField(max_digits=14, decimal_places=2)
    performance_element = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["area__name", "year"]
        constraints = [
            models.UniqueConstraint(fields=["area", "round", "year"], name="allocation_unique"),
            models.CheckConstraint(
                condition=models.Q(minimum__gte=0) & models.Q(performance_element__gte=0),
                name="allocation_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(performance_element__lte=models.F("minimum")),
                name="allocation_performance_within_minimum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.year_label}"

    @property
    def year_label(self) -> str:
        return year_label(self.year)


# ---- The pooled fund in tables ---------------------------------------------------------------
# The plan's fund parts (contributions, schemes, health and care spend, contingency and the fund's
# arrangements) are kept here, row by row, so that the database holds their rules and totals are
# sums in SQL. They are written only by `finance.fund.fund_store`, in the transaction that saves
# the part (`finance.services.part_save`); the part's version, status and history stay on its
# `plans.Part` row. Years are the round's labels ("2014/15"), as the template prints them.


def _amount(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _not_negative(*fields: str, name: str) -> models.CheckConstraint:
    condition = models.Q()
    for field in fields:
        condition &= models.Q(**{f"{field}__gte": 0})
    return models.CheckConstraint(condition=condition, name=name)


class Contribution(models.Model):
    """What one partner puts into the pooled fund from one funding stream in one year."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="contributions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    organisation_name = models.CharField(max_length=200, blank=True)
    stream = models.CharField(max_length=20, choices=FundingStream.choices)
    year = models.CharField(max_length=7)
    amount = _amount()

    class Meta:
        ordering = ["plan", "organisation", "stream", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "organisation", "stream", "year"], name="contribution_unique"
            ),
            _not_negative("amount", name="contribution_not_negative"),
            models.CheckConstraint(
                condition=models.Q(stream__in=FundingStream.values), name="contribution_stream"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_name}, {self.stream}, {self.year}: {self.amount}"


class Scheme(models.Model):
    """One scheme of the template's "ITF Investment" table, in the order the plan lists them;
    an income line reduces net spend."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="schemes")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    scheme_type = models.CharField(max_length=30, choices=SchemeType.choices, blank=True)
    scheme_type_other = models.CharField(max_length=200, blank=True)
    lead = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    lead_name = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=200, blank=True)
    stream = models.CharField(max_length=20, choices=FundingStream.choices, blank=True)
    outcomes = models.TextField(blank=True)
    income = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="scheme_position_unique")
        ]

    def __str__(self) -> str:
        return self.name or f"Scheme {self.position + 1}"


class SchemeAmount(models.Model):
    """A scheme's spend and benefits in one year."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="amounts")
    year = models.CharField(max_length=7)
    spend = _amount(null=True, blank=True)
    benefits = _amount(null=True, blank=True)

    class Meta:
        ordering = ["scheme", "year"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "year"], name="scheme_amount_unique"),
            _not_negative("spend", "benefits", name="scheme_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme}, {self.year}"


class SpendAmount(models.Model):
    """One commissioner line's total health and care spend and benefits in one year (from the
    2013/14 baseline)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="spend_amounts")
    line = models.CharField(max_length=40)
    label = models.CharField(max_length=200, blank=True)
    year = models.CharField(max_length=7)
    spend = _amount(null=True, blank=True)
    benefits = _amount(null=True, blank=True)

    class Meta:
        ordering = ["plan", "line", "year"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "line", "year"], name="spend_amount_unique"),
            _not_negative("spend", "benefits", name="spend_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.label or self.line}, {self.year}"


class ContingencyOutcome(models.Model):
    """One outcome of the contingency plan, in the plan's order."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="contingency_outcomes")
    position = models.PositiveIntegerField()
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="contingency_position_unique")
        ]

    def __str__(self) -> str:
        return self.outcome or f"Outcome {self.position + 1}"


class ContingencyAmount(models.Model):
    """For one outcome and period (the last year, or "ongoing"): the planned savings if its
    targets are met, and the most other services may need if they are not."""

    outcome = models.ForeignKey(
        ContingencyOutcome, on_delete=models.CASCADE, related_name="amounts"
    )
    period = models.CharField(max_length=7)
    savings = _amount(null=True, blank=True)
    support = _amount(null=True, blank=True)

    class Meta:
        ordering = ["outcome", "period"]
        constraints = [
            models.UniqueConstraint(fields=["outcome", "period"], name="contingency_amount_unique"),
            _not_negative("savings", "support", name="contingency_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}, {self.period}"


class Arrangement(models.Model):
    """The pooled fund's section 75 arrangements: its host, its manager, how over- and
    under-spends are shared, the materiality threshold and the notice partners are given."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="arrangement")
    host = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    host_name = models.CharField(max_length=200, blank=True)
    fund_manager = models.CharField(max_length=200, blank=True)
    risk_share_basis = models.CharField(max_length=20, choices=RiskShareBasis.choices, blank=True)
    materiality_threshold = _amount(null=True, blank=True)
    notice_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            _not_negative("materiality_threshold", name="arrangement_threshold_not_negative"),
            models.CheckConstraint(
                condition=models.Q(notice_days__isnull=True)
                | models.Q(notice_days__gte=1, notice_days__lte=60),
                name="arrangement_notice_days",
            ),
        ]

    def __str__(self) -> str:
        return f"Arrangements of {self.plan}"


class RiskShare(models.Model):
    """A partner's agreed share, as a percentage, of the fund's over- and under-spends."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="risk_shares")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    organisation_name = models.CharField(max_length=200, blank=True)
    share = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["plan", "organisation"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "organisation"], name="risk_share_unique"),
            models.CheckConstraint(
                condition=models.Q(share__gte=0, share__lte=100), name="risk_share_percentage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_name}: {self.share}%"


# ---- In-year monitoring ------------------------------------------------------------------------


class QuarterlyReturn(models.Model):
    """A submitted plan's return for one quarter of one of its years: per scheme the spend to
    date and the forecast outturn, per partner and stream what was paid in, per measure its latest
    actual (`finance.returns` describes the content). `version` rises with every save, so a stale
    save is caught as a part's is."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="returns")
    year = models.CharField(max_length=7)
    quarter = models.PositiveSmallIntegerField()
    content = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()
    _change_reason: str
    _history_user: AbstractBaseUser | None

    class Meta:
        ordering = ["plan", "year", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "year", "quarter"], name="return_unique"),
            models.CheckConstraint(
                condition=models.Q(quarter__gte=1, quarter__lte=4), name="return_quarter"
            ),
        ]

    def __str__(self) -> str:
        return f"Quarter {self.quarter} {self.year} return of {self.plan}"


class PerformanceMeasure(models.Model):
    """How one national measure counts towards the element paid for performance, set by a
    national admin for a round: its share of each payment (the shares make 100%), and whether a
    lower figure is the better one (so that an actual at or below its projection achieves it)."""

    round = models.ForeignKey(PlanningRound, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    share = models.DecimalField(max_digits=5, decimal_places=2)
    lower_is_better = models.BooleanField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["round", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["round", "name"], name="performance_measure_unique"),
            models.CheckConstraint(
                condition=models.Q(share__gte=0, share__lte=100), name="performance_share"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.share}%"


class ReturnComment(models.Model):
    """A comment on a quarterly return, by anyone in the area (the partners' questions on the
    figures before they confirm them)."""

    quarterly_return = models.ForeignKey(
        QuarterlyReturn, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.quarterly_return}"
