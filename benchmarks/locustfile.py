"""Signed-in users reading the six pages of load.py's PAGES, each user with sessions of its own,
against the app or the floor (both serve the same paths). Run through benchmarks/load.py, never
by the tests.

Every response time is kept (as a float, where locust's own statistics round to whole
milliseconds, too coarse for a floor of a few) from the moment all users have started, and
written to BENCH_TIMES when locust quits."""

import itertools
import json
import os
from collections import defaultdict

from load import PAGES
from locust import HttpUser, between, events

SESSIONS = json.loads(os.environ.get("BENCH_SESSIONS", "[]"))
_users = itertools.count()
_times: dict[str, list[float]] = defaultdict(list)
_failures = 0
_counting = False


@events.spawning_complete.add_listener
def _start_counting(**kwargs):
    global _counting
    _counting = True


@events.request.add_listener
def _record(name, response_time, exception, **kwargs):
    global _failures
    if _counting:
        _times[name].append(response_time)
        _failures += exception is not None


@events.quitting.add_listener
def _write(**kwargs):
    if os.environ.get("BENCH_TIMES"):
        with open(os.environ["BENCH_TIMES"], "w") as handle:
            json.dump({"times": _times, "failures": _failures}, handle)


def _reader(name: str, path: str, who: str):
    def read(user):
        # The session goes in the Cookie header itself, so a cookie a page sets never replaces
        # it; a redirect (to sign-in) or an error counts as a failure, never as a fast page.
        with user.client.get(
            path,
            name=name,
            headers={"Cookie": f"sessionid={user.sessions[who]}"},
            allow_redirects=False,
            catch_response=True,
        ) as reply:
            if reply.status_code != 200:
                reply.failure(f"status {reply.status_code}")

    read.__name__ = name
    return read


class PlanReader(HttpUser):
    wait_time = between(0.5, 1.5)
    tasks = {_reader(name, path, who): weight for name, path, weight, who in PAGES}

    def on_start(self):
        # Each user takes its own sessions, made by load.py: no sign-in happens during the run.
        member, national = SESSIONS[next(_users) % len(SESSIONS)]
        self.sessions = {"member": member, "national": national}
