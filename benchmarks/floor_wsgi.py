"""The floor for the load benchmark: bare WSGI views that read the same rows as the task list
and a part page, with no middleware, sessions, permissions or templates."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itf_portal.settings")
django.setup()

from django.db.models import Count, Q  # noqa: E402

from plans.models import Part  # noqa: E402

AREA = os.environ.get("BENCH_AREA", "plymouth")


def _task_list() -> str:
    parts = (
        Part.objects.filter(plan__area__slug=AREA)
        .select_related("assignee", "plan__area")
        .annotate(open_comments=Count("comments", filter=Q(comments__resolved_at__isnull=True)))
    )
    return "\n".join(f"{p.key} {p.status} {p.assignee_id} {p.open_comments}" for p in parts)


def _part(key: str) -> str:
    part = Part.objects.select_related("plan__area", "updated_by").get(
        plan__area__slug=AREA, key=key
    )
    comments = list(part.comments.select_related("author"))
    viewers = list(part.viewers.select_related("user"))
    return f"{part.content}\n{[c.text for c in comments]}\n{[v.user_id for v in viewers]}"


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/floor/task-list":
        body = _task_list()
    elif path.startswith("/floor/part/"):
        body = _part(path.rsplit("/", 1)[-1])
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body.encode()]
