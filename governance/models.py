from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from governance.constants import Role
from plans.models import Partnership


class Membership(models.Model):
    """A person's role in an area, on behalf of one of its partner organisations.

    Pointing at the partnership (not at the area and organisation separately) means a membership's
    organisation is always a partner of its area.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["partnership__area__name", "user__last_name", "user__first_name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "partnership", "role"], name="membership_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.partnership}"
