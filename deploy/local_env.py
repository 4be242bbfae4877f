"""The production configuration for this machine (`deploy/prod-up`, `make prod-up`).

`python deploy/local_env.py` prints an env file: new secrets, the local PostgreSQL and Redis,
plain http on 127.0.0.1 (no TLS proxy in front: HSTS and the https redirect off). For a real
deployment start from deploy/production.env instead. `--create-database` creates the database
DATABASE_URL names if it does not exist yet.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def env_file() -> str:
    var = ROOT / "var"
    lines = {
        "YUYUE_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "yuyue.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(50),
        "YUYUE_METRICS_TOKEN": secrets.token_urlsafe(32),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/yuyue_production",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "HOST": "127.0.0.1",
        "PORT": "8000",
        "WS_PORT": "8001",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1:8000,http://localhost:8000",
        "YUYUE_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        # plain http on this machine: behind nginx with TLS leave these out (docs/operations.md)
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "YUYUE_SANDBOX_PAYMENTS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(var / "metrics"),
        "YUYUE_VAR_DIR": str(var / "production"),
    }
    return "".join(f"{k}={v}\n" for k, v in lines.items())


def create_database() -> None:
    """Create DATABASE_URL's database if missing; say plainly when PostgreSQL or Redis is down."""
    import psycopg
    import redis

    url = urlsplit(os.environ["DATABASE_URL"])
    if url.scheme.startswith("postgres"):
        name = url.path.lstrip("/")
        admin = url._replace(scheme="postgresql", path="/postgres").geturl()
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as db:
                known = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if not known.fetchone():
                    db.execute(f'CREATE DATABASE "{name}"')
                    print(f"created database {name}")
        except psycopg.OperationalError as exc:
            sys.exit(f"PostgreSQL at {url.hostname}:{url.port or 5432} does not answer ({exc})")
    if os.environ.get("REDIS_URL"):
        try:
            redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            sys.exit(f"Redis at {os.environ['REDIS_URL']} does not answer ({exc})")


if __name__ == "__main__":
    if "--create-database" in sys.argv:
        create_database()
    else:
        sys.stdout.write(env_file())
