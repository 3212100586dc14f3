import os
import subprocess
import sys

from django.conf import settings

ROOT = settings.BASE_DIR


def _manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in ("DATABASE_URL", "ITF_EMBEDDED_POSTGRES")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checklist():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="k" * 20 + os.urandom(24).hex(),
        DATABASE_URL="postgres://itf:secret@db.internal:5432/itf",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_database_server():
    # Never a database of its own on an app host: DATABASE_URL, or a clear refusal.
    result = _manage("check", DJANGO_SECRET_KEY="k" * 20 + os.urandom(24).hex())
    assert result.returncode != 0
    assert "Set DATABASE_URL to your PostgreSQL server" in result.stderr


def test_pages_carry_a_strict_content_security_policy(client, world):
    client.force_login(world.reviewer)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_scripts(client, world):
    client.force_login(world.reviewer)
    page = client.get("/").content.decode()
    assert "<script>" not in page
    assert '<script type="module" src="/static/' in page


def test_session_cookie_is_http_only():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
