"""Rules every request meets before a view runs, and every signed-in response after."""

from django.shortcuts import render
from django.utils.cache import patch_cache_control

from itf_portal.uploads import REQUEST_LIMIT


def request_size_limit(get_response):
    """A request body larger than the largest upload accepted is refused before a byte of it is
    read, signed in or not; a body sent without a length is cut short by the upload handler."""

    def middleware(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > REQUEST_LIMIT:
            return render(request, "413.html", status=413)
        return get_response(request)

    return middleware


def no_store(get_response):
    """A signed-in page or download is never kept by a browser or a proxy, so the next person at a
    shared computer cannot bring it back from the cache after sign-out."""

    def middleware(request):
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response

    return middleware
