"""Headless Debian Chromium driven by Playwright, with axe-core for accessibility."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

# Playwright's sync API runs an event loop; the ORM calls in test bodies are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (make test installs it when run as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def _record_error(message, errors: list[str]) -> None:
    # This machine has no internet: the NHS typeface cannot load from its CDN (Arial is used).
    if message.type == "error" and "assets.nhs.uk" not in message.location.get("url", ""):
        errors.append(message.text)


@pytest.fixture
def new_page(browser, live_server):
    """Open a fresh browser context (its own cookies) and fail on any console error."""
    contexts = []
    errors: list[str] = []

    def open_page():
        context = browser.new_context(base_url=live_server.url)
        # No internet here: refuse the NHS typeface at once rather than wait for DNS to fail.
        context.route("https://assets.nhs.uk/**", lambda route: route.abort())
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: _record_error(message, errors))
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    # A blocked inline script, a missing asset or a broken module all show up here.
    assert [e for e in errors if "status of 4" not in e] == []


@pytest.fixture
def page(new_page):
    return new_page()


def axe_violations(page) -> list[str]:
    # The page as drawn, with its stylesheet: a click that navigates returns before it loads,
    # and unstyled links are too small a target.
    page.wait_for_load_state()
    # Evaluated over the DevTools protocol, so the page's strict CSP does not block it.
    page.evaluate(AXE.read_text())
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results["violations"]
    ]


def fill_date(page, legend: str, day: str, month: str, year: str):
    """Type a date into the NHS.UK date input whose legend is `legend`."""
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def sign_in(page, username: str, password: str):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def demo():
    """The demo areas and people with every plan in Drafting, to be edited and taken through
    sign-off (tests/conftest.py makes their passwords quick to check)."""
    call_command("load_demo", "--drafting", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def demo_as_run():
    """The demo as `make run` loads it: a plan in each state of sign-off."""
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
