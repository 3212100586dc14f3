from django.db import models


class FundingStream(models.TextChoices):
    """The streams the pooled fund is built from (seeds 000, 002, 004)."""

    SECTION_256 = "s256", "Existing NHS transfer to social care (section 256)"
    ADDITIONAL_TRANSFER = "additional", "Additional 2014/15 transfer"
    CARERS_BREAKS = "carers", "Carers' breaks"
    REABLEMENT = "reablement", "CCG reablement"
    CAPITAL = "capital", "Capital, of which Disabled Facilities Grant"
    NHS_BASELINE = "nhs", "NHS funding from CCG baselines"
    OTHER = "other", "Other local contributions"
