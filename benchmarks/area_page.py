"""The area page against a bare Django view reading the same rows, for an area with 200 members.

Prints the median time of each and their ratio.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itf_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

ROUNDS = 200
MEMBERS = 200


def floor_view(request, slug):
    """The least any page must do: read the area, its partners and members, and answer."""
    from governance.models import Membership
    from plans.models import Area

    area = Area.objects.get(slug=slug)
    partners = [p.organisation.name for p in area.partnerships.select_related("organisation")]
    members = Membership.objects.filter(partnership__area=area).select_related(
        "user", "partnership__organisation"
    )
    rows = [f"{m.user.get_full_name()} {m.partnership.organisation.name} {m.role}" for m in members]
    return HttpResponse("\n".join([area.name, *partners, *rows]))


def median_seconds(call) -> float:
    for _ in range(10):
        call()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from governance.constants import Role
        from tests.factories import area_make, member_make

        area = area_make("Bench", ccg_count=3)
        viewer = member_make(area, Role.REVIEWER)
        for i in range(MEMBERS - 1):
            member_make(area, list(Role)[i % len(Role)])
        client = Client()
        client.force_login(viewer)
        url = f"/areas/{area.slug}/"
        assert client.get(url).status_code == 200
        request = RequestFactory().get(url)

        app = median_seconds(lambda: client.get(url))
        floor = median_seconds(lambda: floor_view(request, area.slug))
        print(f"area page, {MEMBERS} members: app {app * 1000:.2f} ms, floor {floor * 1000:.2f} ms")
        print(f"ratio app/floor: {app / floor:.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
