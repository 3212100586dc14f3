import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from governance.constants import Role
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def _sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_a_member_signs_in_and_sees_their_area(client, world):
    response = _sign_in(client, "commissioner", PASSWORD)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Southampton" in page
    assert "Rotherham" not in page


def test_a_wrong_password_is_refused_with_a_message(client, world):
    response = _sign_in(client, "commissioner", "wrong-password")
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Please enter a correct username and password" in page
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(client, world):
    for _ in range(4):
        assert _sign_in(client, "commissioner", "wrong-password").status_code == 200
    locked = _sign_in(client, "commissioner", "wrong-password")
    assert locked.status_code == 429
    assert "locked on this device for 15 minutes" in locked.content.decode()
    # Even the right password is refused while locked.
    assert _sign_in(client, "commissioner", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    assert _sign_in(client, "reviewer", PASSWORD).status_code == 302


def test_a_username_too_long_for_any_account_is_refused_and_counted(client, world):
    long = "commissioner" + "x" * 300
    response = _sign_in(client, long, PASSWORD)
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    # The lockout counts it under the first 255 characters, the most its records keep.
    assert AccessAttempt.objects.get().username == long[:255]


def test_the_lock_lifts_after_fifteen_minutes(client, world):
    for _ in range(5):
        _sign_in(client, "commissioner", "wrong-password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _sign_in(client, "commissioner", PASSWORD).status_code == 302


def test_a_person_with_no_membership_is_told_they_have_no_area_yet(client, world):
    client.force_login(world.nobody)
    page = client.get(reverse("dashboard")).content.decode()
    assert "You have no area yet" in page
    assert "Ask the area admin" in page


def test_log_out_needs_a_post_and_ends_the_session(client, world):
    client.force_login(world.reviewer)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_weak_new_password_is_refused(client, world):
    client.force_login(world.reviewer)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This password is too short" in page
    assert "This password is too common" in page


def test_a_new_member_sets_their_password_from_the_emailed_link_and_signs_in(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("member_add", kwargs={"slug": "southampton"}),
            {
                "email": "pat@example.org",
                "first_name": "Pat",
                "last_name": "Jones",
                "organisation": world.area.partners.first().pk,
                "role": Role.COMMISSIONER,
            },
        )
    client.post("/accounts/logout/")
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # Django swaps the token for a session-held one
    response = client.post(
        form_url, {"new_password1": "Sea-Views-2015!", "new_password2": "Sea-Views-2015!"}
    )
    assert response.status_code == 302
    assert _sign_in(client, "pat@example.org", "Sea-Views-2015!").status_code == 302


@pytest.mark.parametrize("path", [LOGIN, "/accounts/password_reset/"])
def test_forms_are_protected_against_cross_site_posts(path, world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(path, {"username": "commissioner", "password": PASSWORD})
    assert response.status_code == 403
    assert "Your form has expired" in response.content.decode()
