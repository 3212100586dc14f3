"""Work done by the task worker (`manage.py db_worker`, as `make run` starts it), end to end:
asked for, queued, picked up by the worker in its own process and finished, against the same
work done in this process with no queue.

- The national composite for 151 and 1,510 synthetic areas: the time from asking to "done"
  through the worker, against `national_workbook` called directly (the queue's cost) and against
  a bare write-only openpyxl workbook of the same rows (the floor); and the worker's peak
  resident memory while it builds, which write-only mode and batched reads should keep nearly
  flat as the areas grow tenfold.
- Emails: 300 queued in one go and delivered by the worker, against the same 300 sent directly
  through the same mail backend; emails a second.
"""

import os
import signal
import subprocess
import sys
import threading
import time

from common import throwaway_database  # sets Django up first
from composite import floor_workbook

EMAILS = 300
BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # delivery itself costs next to nothing


class Worker:
    """A real task worker on the throwaway database, its resident memory sampled while it runs."""

    def __init__(self):
        from django.conf import settings
        from django.db import connection

        from itf_portal.database import database_url

        self.process = subprocess.Popen(
            [
                *(sys.executable, "manage.py", "db_worker", "--queue-name", "*"),
                *("--no-reload", "--no-startup-delay", "-v", "0"),
            ],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DATABASE_URL": database_url(connection), "EMAIL_BACKEND": BACKEND},
        )
        self.peak = 0
        self._watching = True
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        import psutil

        watched = psutil.Process(self.process.pid)
        while self._watching:
            try:
                self.peak = max(self.peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.02)

    def resident(self) -> int:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss

    def stop(self):
        self._watching = False
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)


def wait_for(done, timeout: float = 600) -> float:
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout:
            raise RuntimeError("the worker did not finish in time")
        time.sleep(0.01)
    return time.perf_counter() - start


def composite_through_the_worker(worker, planning_round, count: int) -> None:
    from governance.models import CompositeExport
    from plans.exports.national import area_figures, headers, national_workbook, row
    from plans.models import Area

    years = planning_round.year_labels
    start = time.perf_counter()
    national_workbook(planning_round)
    direct = time.perf_counter() - start
    areas = list(Area.objects.order_by("name"))
    rows = [row(figures, years) for figures in area_figures(areas, planning_round)]
    start = time.perf_counter()
    floor_workbook(headers(years), rows)
    floor = time.perf_counter() - start

    from plans.exports.national import composite_start

    worker.peak = before = worker.resident()
    start = time.perf_counter()
    job = composite_start(user=None, round_=planning_round)
    wait_for(lambda: CompositeExport.objects.get(pk=job.pk).status != CompositeExport.BUILDING)
    queued = time.perf_counter() - start
    assert CompositeExport.objects.get(pk=job.pk).status == CompositeExport.DONE
    print(
        f"Composite, {count} areas: through the worker {queued * 1000:.0f} ms, directly "
        f"{direct * 1000:.0f} ms, floor {floor * 1000:.0f} ms; worker memory "
        f"{before / 1024**2:.0f} MB idle, {worker.peak / 1024**2:.0f} MB at its peak"
    )
    print(f"ratio worker/direct: {queued / direct:.2f}; ratio worker/floor: {queued / floor:.2f}")
    return worker.peak - before


def emails_through_the_worker() -> None:
    from django.core.mail import get_connection, send_mail
    from django.db import transaction

    from itf_portal.mail import email_send
    from itf_portal.models import Email

    with get_connection(BACKEND) as direct_backend:
        start = time.perf_counter()
        for n in range(EMAILS):
            send_mail(
                f"Plan {n} is ready", "Body", None, [f"p{n}@example.org"], connection=direct_backend
            )
        direct = time.perf_counter() - start
    start = time.perf_counter()
    with transaction.atomic():
        for n in range(EMAILS):
            email_send(to=[f"p{n}@example.org"], subject=f"Plan {n} is ready", body="Body")
    wait_for(lambda: Email.objects.filter(status=Email.SENT).count() == EMAILS)
    queued = time.perf_counter() - start
    print(
        f"Emails, {EMAILS}: through the queue {queued * 1000:.0f} ms "
        f"({EMAILS / queued:.0f} a second), sent directly {direct * 1000:.1f} ms"
    )
    print(f"ratio queue/direct: {queued / direct:.1f}")


def main():
    from plans.services import plan_current_round
    from tests.factories import synthetic_areas

    with throwaway_database():
        planning_round = plan_current_round()
        worker = Worker()
        try:
            emails_through_the_worker()
            synthetic_areas(151, planning_round)
            small = composite_through_the_worker(worker, planning_round, 151)
            for batch in range(9):
                synthetic_areas(151, planning_round, prefix=f"More {batch}")
            large = composite_through_the_worker(worker, planning_round, 1510)
            print(
                f"Worker memory growth while building: {small / 1024**2:.0f} MB for 151 areas, "
                f"{large / 1024**2:.0f} MB for 1,510 (ratio {large / max(small, 1):.2f} for 10×)"
            )
        finally:
            worker.stop()


if __name__ == "__main__":
    main()
