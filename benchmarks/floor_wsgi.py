"""The floor for the load benchmark: the HTML load.py captured from the app for each page, served
as it is by one bare Django view. Django's WSGI handler and URL resolver, no middleware, no
sessions, database, permissions or templates. BENCH_FLOOR_PAGES names the folder of pages."""

import json
import os
from pathlib import Path

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="the floor keeps no secrets",  # noqa: S106 - nothing is signed here
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, HttpResponseNotFound  # noqa: E402
from django.urls import re_path  # noqa: E402

FOLDER = Path(os.environ["BENCH_FLOOR_PAGES"])
PAGES = {
    path: ((FOLDER / page["file"]).read_bytes(), page["content_type"])
    for path, page in json.loads((FOLDER / "manifest.json").read_text()).items()
}


def page(request):
    if request.path not in PAGES:
        return HttpResponseNotFound(b"not found")
    body, content_type = PAGES[request.path]
    return HttpResponse(body, content_type=content_type)


urlpatterns = [re_path(r"", page)]
application = get_wsgi_application()
