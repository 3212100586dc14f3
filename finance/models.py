from django.db import models
from simple_history.models import HistoricalRecords

from itf_portal.years import year_label
from plans.models import Area, PlanningRound


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
