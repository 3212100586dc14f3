"""The readiness checklist's plumbing: a named rule with its answer. The rules themselves live
with what they check: each part's own (`plans.template`), the money's (`finance.rules`) and the
sign-off's (`governance.signoff.readiness_checks`)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """A named rule with its answer, for the plan's readiness checklist."""

    name: str
    passed: bool
    message: str
    part: str = ""  # the part of the plan that fixes it
