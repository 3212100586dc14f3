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


class SchemeType(models.TextChoices):
    REABLEMENT = "reablement", "Reablement"
    INTERMEDIATE_CARE = "intermediate_care", "Intermediate care"
    INTEGRATED_TEAMS = "integrated_teams", "Integrated care teams"
    CARERS = "carers", "Support for carers"
    PREVENTION = "prevention", "Prevention and early help"
    ASSISTIVE_TECHNOLOGY = "assistive_technology", "Assistive technology"
    DFG = "dfg", "Disabled Facilities Grant and adaptations"
    SEVEN_DAY = "seven_day", "Seven-day services"
    CARE_ACT = "care_act", "Care Act implementation"
    OTHER = "other", "Other, please describe"


class RiskShareBasis(models.TextChoices):
    PROPORTIONAL = "proportional", "In proportion to each partner's contributions"
    AGREED = "agreed", "Agreed shares, set below"


DEFAULT_MATERIALITY_THRESHOLD = "500000"
DEFAULT_NOTICE_DAYS = 10
