from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from plans.constants import OrganisationKind


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
    partners = models.ManyToManyField(Organisation, through="Partnership", related_name="areas")
    history = HistoricalRecords(excluded_fields=["partners"])

    class Meta:
        ordering = ["name"]
        permissions = [("manage_members", "Manage the area's members and their roles")]

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
