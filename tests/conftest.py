from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group

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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests make many users and never need it to be strong.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
