from django.db import models


class OrganisationKind(models.TextChoices):
    LOCAL_AUTHORITY = "la", "Local authority"
    CCG = "ccg", "Clinical commissioning group"
