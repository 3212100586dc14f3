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
    # The lockout counts it under the first 150 characters, the longest an account can have.
    assert AccessAttempt.objects.get().username == long[:150]


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
    client, world, django_capture_on_commit_callbacks, run_tasks
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
    run_tasks()
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


def test_wrong_passwords_from_many_addresses_lock_the_account_everywhere(client, world):
    from governance.lockout import ACCOUNT_FAILURE_LIMIT

    # Four wrong passwords from each of many addresses: never five from one, so axes's lock on
    # one device never trips, but the account's own count does.
    for attempt in range(ACCOUNT_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "commissioner", "password": "wrong-password"},
            REMOTE_ADDR=f"10.0.{attempt // 4}.1",
        )
    response = client.post(
        LOGIN, {"username": "commissioner", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 200
    assert "This account is locked for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other accounts are not affected.
    assert _sign_in(client, "reviewer", PASSWORD).status_code == 302


def test_choosing_a_new_password_lifts_the_lock(client, world, run_tasks):
    from governance.lockout import ACCOUNT_FAILURE_LIMIT

    for attempt in range(ACCOUNT_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "commissioner", "password": "wrong"},
            REMOTE_ADDR=f"10.1.{attempt // 4}.1",
        )
    client.post("/accounts/password_reset/", {"email": world.commissioner.email})
    run_tasks()
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[-1].body).group(1)
    form_url = client.get(link).url
    client.post(form_url, {"new_password1": "Sea-Views-2015!", "new_password2": "Sea-Views-2015!"})
    assert _sign_in(client, "commissioner", "Sea-Views-2015!").status_code == 302


def test_an_invited_person_whose_link_expired_can_get_a_new_one(client, world, run_tasks):
    world.commissioner.set_unusable_password()  # invited, never chose a password
    world.commissioner.save()
    response = client.post("/accounts/password_reset/", {"email": world.commissioner.email})
    assert response.status_code == 302
    run_tasks()
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_an_expired_link_offers_a_new_one(client, world):
    page = client.get("/accounts/reset/MQ/expired-token/").content.decode()
    assert "This link has expired or has been used" in page
    assert "Send me a new link" in page


def test_links_to_one_account_are_limited_to_three_an_hour_without_saying_so(
    client, world, run_tasks
):
    for _ in range(5):
        response = client.post("/accounts/password_reset/", {"email": world.commissioner.email})
        assert response.status_code == 302  # the same "check your email" page every time
    run_tasks()
    assert len(mail.outbox) == 3


def test_one_address_asking_for_many_links_is_told_to_wait(client, world, run_tasks):
    from governance.accounts import LINKS_PER_ADDRESS

    for number in range(LINKS_PER_ADDRESS):
        client.post("/accounts/password_reset/", {"email": f"guess{number}@example.org"})
    response = client.post("/accounts/password_reset/", {"email": world.commissioner.email})
    assert response.status_code == 200
    assert "Too many links have been asked for from this computer" in response.content.decode()
    run_tasks()
    assert mail.outbox == []


def test_signed_in_pages_and_downloads_are_never_cached(client, world):
    client.force_login(world.commissioner)
    page = client.get(reverse("dashboard"))
    assert "no-store" in page["Cache-Control"]
    from plans.services import plan_current_round

    round_slug = plan_current_round().slug
    download = client.get(
        reverse("plan_export", kwargs={"slug": "southampton", "round_slug": round_slug})
    )
    assert download.status_code == 200
    assert "no-store" in download["Cache-Control"]


def test_a_huge_body_is_refused_unread_even_when_signed_out(client, world):
    from itf_portal.uploads import REQUEST_LIMIT

    response = client.generic(
        "POST",
        LOGIN,
        b"x" * (REQUEST_LIMIT + 1),
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 413
    assert "The file is too large" in response.content.decode()


def test_a_request_with_two_files_is_refused(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        LOGIN,
        {
            "username": "commissioner",
            "a": SimpleUploadedFile("a.xlsx", b"x" * 10),
            "b": SimpleUploadedFile("b.xlsx", b"x" * 10),
        },
    )
    assert response.status_code == 400
