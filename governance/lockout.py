"""The lock on an account across addresses: django-axes locks an account on one device after 5
wrong passwords; this stops guesses spread over many addresses too, wherever a password is asked
(signing in, and the password that confirms a signature, a decline, an approval or a reopen)."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from itf_portal.client_ip import USERNAME_LIMIT

# Wrong passwords for one account, from any number of addresses, within the cool-off time.
ACCOUNT_FAILURE_LIMIT = 20


def account_failures(username: str) -> int:
    """Wrong passwords for this sign-in name from every address, within the cool-off time."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(
        username__iexact=username[:USERNAME_LIMIT], attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


def account_locked(username: str) -> str:
    """Why this account takes no password just now (too many wrong ones, from any addresses),
    or "": asked at sign-in and wherever a password confirms a decision."""
    if account_failures(username) < ACCOUNT_FAILURE_LIMIT:
        return ""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"This account is locked for {minutes} minutes: there have been too many wrong "
        "passwords for it, from more than one place. Wait, then sign in again, or reset "
        "your password. If this was not you, tell your area admin."
    )
