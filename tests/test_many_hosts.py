"""Two app hosts and one task worker on one PostgreSQL behave as one portal: a composite or a
plan's PDF asked for on one host is followed and downloaded on the other, survives the first host
being killed while it is made, and two people asking at once on the two hosts start one build."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from io import BytesIO

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from governance.constants import NATIONAL_ADMIN_GROUP, Role
from governance.models import CompositeExport, ExportFile
from governance.permissions import national_admin_group_sync
from plans.services import plan_current_round
from tests.conftest import _test_database_url
from tests.factories import PASSWORD, UserFactory, area_make, member_make, synthetic_areas

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Host:
    """One gunicorn server as `make run` starts it, on its own port."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "itf_portal.wsgi"),
                *("--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "4"),
                *("--graceful-timeout", "2", "--log-level", "warning"),
            ],
            cwd=settings.BASE_DIR,
            env={
                **os.environ,
                "DATABASE_URL": _test_database_url(),
                "DJANGO_DEBUG": "0",
                "DJANGO_HTTPS": "0",
                "DJANGO_SECRET_KEY": settings.SECRET_KEY,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            },
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class Browser:
    """A person's cookies, which any host accepts: sessions live in PostgreSQL."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def get(self, url: str, accept: str = "text/html"):
        request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310
        return self.opener.open(request, timeout=60)

    def post(self, url: str, data: dict):
        token = next(c.value for c in self.cookies if c.name == "csrftoken")
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url})  # noqa: S310
        try:
            return self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as answer:  # a redirect is an answer, not a failure
            return answer

    def follow(self, url: str, busy: str, *, seconds: float) -> dict:
        """Ask for the work's status, as its page does, until it is no longer `busy`."""
        deadline = time.monotonic() + seconds
        status: dict = {}
        while time.monotonic() < deadline:
            status = json.load(self.get(url, accept="application/json"))
            if status["status"] != busy:
                break
            time.sleep(0.5)
        return status

    def sign_in(self, host: Host, username: str) -> None:
        self.get(f"{host.url}/accounts/login/")
        answer = self.post(
            f"{host.url}/accounts/login/", {"username": username, "password": PASSWORD}
        )
        assert answer.status == 302, answer.read()[:500]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def hosts(transactional_db):
    started = [Host(), Host()]
    yield started
    for host in started:
        host.stop()


@pytest.fixture
def national_admin(transactional_db):
    national_admin_group_sync()
    user = UserFactory(username="national")
    _as_the_servers_hash(user)
    user.groups.add(Group.objects.get(name=NATIONAL_ADMIN_GROUP))
    return user


def _as_the_servers_hash(user) -> None:
    # The tests' own fast hasher is not the servers'.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save()


def _build_url(answer) -> str:
    assert answer.status == 302
    location = answer.headers["Location"]
    assert re.fullmatch(r"/national/composite/\d+/", location), location
    return location


def test_a_composite_asked_for_on_one_host_finishes_after_it_is_killed_and_downloads_on_the_other(
    hosts, national_admin, worker_process
):
    synthetic_areas(300, plan_current_round())  # enough that the build takes a while
    first, second = hosts
    person = Browser()
    person.sign_in(first, "national")
    build = _build_url(person.post(f"{first.url}/national/composite/", {}))
    first.kill()  # the web server dies while the worker builds
    assert CompositeExport.objects.get().finished_at is None  # it was still building
    status = person.follow(f"{second.url}{build}", "building", seconds=240)
    assert status == {"status": "done", "done": 300, "total": 300, "percent": 100}
    download = person.get(f"{second.url}{build}download/")
    book = load_workbook(BytesIO(download.read()), read_only=True)
    assert sum(1 for _ in book["Areas"].iter_rows()) == 302  # a header, a row per area, totals
    assert CompositeExport.objects.count() == 1


def test_two_people_asking_at_once_on_two_hosts_start_one_build(hosts, national_admin):
    # No worker runs here, so the first build is still under way when the second asks, however
    # the two requests happen to be ordered.
    people = [Browser(), Browser()]
    for person, host in zip(people, hosts, strict=True):
        person.sign_in(host, "national")
        person.get(f"{host.url}/national/composite/")  # each host warm, so both ask at once
    answers: list = [None, None]
    start = threading.Barrier(2)

    def ask(number: int) -> None:
        host = hosts[number]
        start.wait()
        answers[number] = people[number].post(f"{host.url}/national/composite/", {})

    threads = [threading.Thread(target=ask, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _build_url(answers[0]) == _build_url(answers[1])
    assert CompositeExport.objects.count() == 1


def test_a_pdf_asked_for_on_one_host_is_printed_after_it_is_killed_and_downloads_on_the_other(
    hosts, worker_process
):
    reviewer = member_make(area_make("Southampton"), Role.REVIEWER, username="reviewer")
    _as_the_servers_hash(reviewer)
    first, second = hosts
    person = Browser()
    person.sign_in(first, "reviewer")
    url = "/areas/southampton/plans/itf-2014/export.pdf"
    assert person.get(f"{first.url}{url}").status == 202  # "Preparing the PDF"
    first.kill()  # the web server dies; the worker prints
    status = person.follow(f"{second.url}{url}", "printing", seconds=120)
    assert status == {"status": "done", "reason": ""}
    download = person.get(f"{second.url}{url}")
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.read().startswith(b"%PDF")
    assert ExportFile.objects.count() == 1
