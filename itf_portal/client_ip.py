"""The client's address, for the sign-in lockout.

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
