"""The client's address and the sign-in name, as the sign-in lockout records them.

Behind N trusted proxies (DJANGO_TRUSTED_PROXY_COUNT) the client is the Nth address from the right
of X-Forwarded-For; anything further left was written by the client and cannot be trusted.
"""

from django.conf import settings


def client_ip(request) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


USERNAME_LIMIT = 150  # the longest sign-in name an account can have


def username(request, credentials=None) -> str:
    """The sign-in name typed, cut to the longest an account can have: a longer one matches no
    account, and the lockout's own record holds no more."""
    typed = (credentials or {}).get("username") or request.POST.get("username") or ""
    return str(typed)[:USERNAME_LIMIT]
