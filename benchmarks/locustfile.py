"""50 signed-in users reading the task list and a part page (TARGET=app), or the same rows
through the bare floor views (TARGET=floor). Run through benchmarks/load.py, never by the tests."""

import itertools
import os
from urllib.parse import urlsplit

from locust import HttpUser, between, task

TARGET = os.environ.get("TARGET", "app")
AREA = os.environ.get("BENCH_AREA", "plymouth")
_counter = itertools.count()
PLAN = f"/areas/{AREA}/plans/itf-2014/"


class PlanReader(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        # Each user takes a session made by load.py, so no sign-in happens during the run.
        sessions = os.environ.get("BENCH_SESSIONS", "").split(",")
        key = sessions[next(_counter) % len(sessions)]
        self.client.cookies.set("sessionid", key, domain=urlsplit(self.host).hostname)

    def read(self, url: str, name: str) -> None:
        # A redirect (to sign-in) or an error counts as a failure, never as a fast page.
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as reply:
            if reply.status_code != 200:
                reply.failure(f"status {reply.status_code}")

    @task(2)
    def task_list(self):
        self.read(PLAN if TARGET == "app" else "/floor/task-list", "task list")

    @task(3)
    def part_page(self):
        self.read(PLAN + "parts/risks/" if TARGET == "app" else "/floor/part/risks", "part page")
