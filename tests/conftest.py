import io
import os
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings

from governance.constants import NATIONAL_ADMIN_GROUP, Role
from governance.permissions import national_admin_group_sync
from plans.services import plan_current_round
from tests.factories import UserFactory, area_make, member_make


@pytest.fixture
def world(db):
    """Two areas, people in every position a permission test needs."""
    southampton = area_make("Southampton")
    rotherham = area_make("Rotherham")
    national_admin_group_sync()
    plan_current_round()
    national = UserFactory(username="national")
    national.groups.add(Group.objects.get(name=NATIONAL_ADMIN_GROUP))
    return SimpleNamespace(
        area=southampton,
        other_area=rotherham,
        admin=member_make(southampton, Role.AREA_ADMIN, username="admin"),
        commissioner=member_make(southampton, Role.COMMISSIONER, username="commissioner"),
        reviewer=member_make(southampton, Role.REVIEWER, username="reviewer"),
        outsider=member_make(rotherham, Role.AREA_ADMIN, username="outsider"),
        national=national,
        nobody=UserFactory(username="nobody"),
    )


@pytest.fixture(scope="module")
def drafting_demo(django_db_setup, django_db_blocker):
    """The demo with every plan in Drafting, loaded once for a module whose tests each run in a
    transaction rolled back after it (`db`), so every test sees it as loaded; emptied again
    after the module, as a transactional test leaves the database."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        call_command("load_demo", "--drafting", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def submitted_demo(django_db_setup, django_db_blocker):
    """The demo as `make run` loads it (Plymouth submitted, with its quarterly returns), loaded
    once for a module as `drafting_demo` is."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        call_command("load_demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests make many users and never need it to be strong.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def run_tasks():
    """Run every task queued so far, one at a time as the task worker does, inside this test's
    transaction (the worker command itself closes the connection between tasks, which a test's
    transaction cannot survive; tests/test_worker.py runs the real command in its own process).
    Returns how many emails went out."""
    from django.core import mail
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )

    def run() -> int:
        before = len(mail.outbox)
        while (result := DBTaskResult.objects.ready().get_locked()) is not None:
            result.claim(worker.worker_id)
            worker.run_task(result)
        return len(mail.outbox) - before

    return run


def _test_database_url() -> str:
    """The test database's address, for a process of our own started from a test."""
    from django.db import connection

    from itf_portal.database import database_url

    return database_url(connection)


@pytest.fixture
def worker_process(transactional_db):
    """A real task worker (`manage.py db_worker`, as `make run` starts it) in its own process,
    working on the test database; stopped as it would be by Ctrl-C."""
    import signal
    import subprocess
    import sys

    from django.conf import settings

    process = subprocess.Popen(
        [
            *(sys.executable, "manage.py", "db_worker", "--queue-name", "*"),
            *("--interval", "0.1", "--no-startup-delay", "--no-reload", "-v", "0"),
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": _test_database_url()},
    )
    yield process
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
