"""Secrets never default silently outside development, and the documented production
configuration (deploy/production.env) passes `manage.py check --deploy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def _documented() -> dict[str, str]:
    env = {}
    for line in (PROJECT / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = secrets.token_urlsafe(50) if value.startswith("<") else value
    # the documented /run/yuyue/metrics is the host's; here a folder of the project's (made by
    # the settings when missing)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(PROJECT / "var" / "test-metrics")
    return env


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YUYUE_", "SECRET_KEY"))}
    for name in ("FIELD_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL", "PORT", "HOST", "DEBUG"):
        base.pop(name, None)
    base["DJANGO_SETTINGS_MODULE"] = "yuyue.settings"
    base["YUYUE_VAR_DIR"] = str(PROJECT / "var")
    base.update(env)
    return subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
    )


def test_the_documented_production_configuration_passes_check_deploy():
    done = _manage("check", "--deploy", "--fail-level", "WARNING", **_documented())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_its_secrets():
    env = _documented()
    for missing in (
        ("SECRET_KEY",),
        ("FIELD_ENCRYPTION_KEY",),
        ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"),
    ):
        done = _manage("check", **{k: v for k, v in env.items() if k not in missing})
        assert done.returncode != 0
        assert f"YUYUE_ENV=production needs {' and '.join(missing)}" in done.stderr, done.stderr
    same = dict(env, FIELD_ENCRYPTION_KEY=env["SECRET_KEY"])
    assert "two different secrets" in _manage("check", **same).stderr
    assert "DEBUG" in _manage("check", **dict(env, DEBUG="1")).stderr


def test_development_defaults_do_not_pass_the_deployment_check():
    done = _manage("check", "--deploy")
    assert done.returncode != 0
    assert "yuyue.E001" in done.stdout + done.stderr  # the development key
    assert "yuyue.E002" in done.stdout + done.stderr


def test_the_public_address_follows_the_port_make_run_serves():
    code = "from django.conf import settings; print(settings.YUYUE_PUBLIC_BASE_URL)"
    assert (
        _manage("shell", "-c", code, PORT="8001").stdout.strip().splitlines()[-1]
        == "http://127.0.0.1:8001"
    )
    assert (
        _manage("shell", "-c", code, HOST="0.0.0.0").stdout.strip().splitlines()[-1]
        == "http://127.0.0.1:8000"
    )
    explicit = _manage("shell", "-c", code, PORT="8001", YUYUE_PUBLIC_BASE_URL="https://a.b/")
    assert explicit.stdout.strip().splitlines()[-1] == "https://a.b"
