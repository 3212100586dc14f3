from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from itf_portal.years import year_label
from plans.constants import AreaPermission, OrganisationKind, PartKey, PartStatus, PlanState
from plans.template import PART_CHOICES


class Organisation(models.Model):
    """A partner body: a local authority or a clinical commissioning group."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=3, choices=OrganisationKind.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="organisation_name_unique",
                violation_error_message="An organisation with this name already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_local_authority(self) -> bool:
        return self.kind == OrganisationKind.LOCAL_AUTHORITY


class Area(models.Model):
    """A Health and Wellbeing Board area: exactly one local authority and one or more CCGs.

    The partner rule lives in `plans.services.area_save`, the one way areas are written.
    """

    name = models.CharField(
        max_length=200,
        unique=True,
        error_messages={"unique": "An area with this name already exists."},
    )
    slug = models.SlugField(
        max_length=60,
        unique=True,
        error_messages={"unique": "Another area already uses this short name."},
    )
    boundary_differences = models.TextField(
        blank=True,
        max_length=5000,
        help_text="Where the local authority's and the CCGs' boundaries differ, and how the plan "
        "deals with it.",
    )
    # Annotated for the type checker, which cannot resolve `through`: Partnership comes below.
    partners: "models.ManyToManyField[Organisation, Partnership]" = models.ManyToManyField(
        Organisation, through="Partnership", related_name="areas"
    )
    history = HistoricalRecords(excluded_fields=["partners"])

    class Meta:
        ordering = ["name"]
        permissions = list(AreaPermission.choices)  # copied: the stubs want a list of lazy names

    def __str__(self) -> str:
        return self.name


class Partnership(models.Model):
    """An organisation's place in an area (a CCG may be a partner in several areas)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="partnerships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partnerships"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-organisation__kind", "organisation__name"]  # the LA first
        constraints = [
            models.UniqueConstraint(fields=["area", "organisation"], name="partnership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.area}"


class PlanningRound(models.Model):
    """A national planning round: its baseline year and the years a plan covers.

    Years are stored as the calendar year they start in (2014 means 2014/15).
    """

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    baseline_year = models.PositiveSmallIntegerField()
    first_year = models.PositiveSmallIntegerField()
    last_year = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-first_year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(baseline_year__lt=models.F("first_year"))
                & models.Q(first_year__lte=models.F("last_year")),
                name="round_years_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def baseline_label(self) -> str:
        return year_label(self.baseline_year)

    @property
    def year_labels(self) -> list[str]:
        return [year_label(year) for year in range(self.first_year, self.last_year + 1)]


class Plan(models.Model):
    """One area's plan for one planning round."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="plans")
    round = models.ForeignKey(PlanningRound, on_delete=models.PROTECT, related_name="plans")
    state = models.CharField(max_length=20, choices=PlanState.choices, default=PlanState.DRAFTING)
    hwb_agreed_on = models.DateField(
        "Date agreed at the Health and Wellbeing Board", null=True, blank=True
    )
    submitted_on = models.DateField("Date submitted", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "round"], name="plan_one_per_area_per_round"),
            models.CheckConstraint(
                condition=models.Q(state__in=PlanState.values), name="plan_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} — {self.round}"

    @cached_property
    def partner_organisations(self) -> list:
        """The area's partners, the local authority first; read once per request."""
        return [p.organisation for p in self.area.partnerships.select_related("organisation")]


class Part(models.Model):
    """One part of a plan. Its fields live in `content`, described by the part's form in
    `plans.parts`; `version` rises by one with every save, so a stale save can be caught."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="parts")
    key = models.CharField(max_length=40, choices=PART_CHOICES)
    content = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=PartStatus.choices, default=PartStatus.NOT_STARTED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()
    # Set before a save for django-simple-history to record with it; declared, never defaulted,
    # because the library looks for them on the instance.
    _change_reason: str
    _history_user: AbstractBaseUser | None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="part_one_per_plan"),
            models.CheckConstraint(
                condition=models.Q(key__in=PartKey.values), name="part_key_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PartStatus.values), name="part_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} ({self.plan})"


class PartViewer(models.Model):
    """Who has a part open: refreshed by the page every 20 seconds, kept in the database so that
    every app server sees the same list."""

    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="viewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["part", "user"], name="part_viewer_unique")]

    def __str__(self) -> str:
        return f"{self.user} viewing {self.part}"


class Comment(models.Model):
    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.part}"


class PlanImport(models.Model):
    """A workbook's changes to a plan, previewed and waiting for the person to confirm them
    (`plans.exports.importer`). `parts` holds, by part key, the new content and status, the
    version it was previewed against, and any conflict with edits made since the export."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="imports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    export = models.ForeignKey(
        "governance.Export", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    parts = models.JSONField(default=dict)
    # The parts the workbook changes that this import leaves alone, and why: [{title, reasons}].
    left_out = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Import of {self.file_name} into {self.plan}"
