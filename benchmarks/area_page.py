"""The area page against a bare Django view reading the same rows, for an area with 200 members.

Prints the median time of each and their ratio.
"""

from common import median_seconds, throwaway_database  # sets Django up first
from django.http import HttpResponse
from django.test import Client, RequestFactory

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


def main():
    with throwaway_database():
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

        app = median_seconds(lambda: client.get(url), rounds=ROUNDS, warmup=10)
        floor = median_seconds(lambda: floor_view(request, area.slug), rounds=ROUNDS, warmup=10)
        print(f"area page, {MEMBERS} members: app {app * 1000:.2f} ms, floor {floor * 1000:.2f} ms")
        print(f"ratio app/floor: {app / floor:.2f}")


if __name__ == "__main__":
    main()
