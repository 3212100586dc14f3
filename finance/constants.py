"""The pooled fund's defaults. The template's fixed lists (funding streams, scheme types, risk-share
bases) are in `plans.constants`, beside the description of the template."""

DEFAULT_MATERIALITY_THRESHOLD = "500000"
DEFAULT_NOTICE_DAYS = 10
