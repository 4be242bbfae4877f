"""yuyue settings: everything that differs between machines comes from the environment."""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("YUYUE_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# "development" (the default: `make run`, the tests) or "production". In production the platform
# refuses to start without its own secrets and turns on HTTPS-only cookies and HSTS; the
# documented production configuration passes `manage.py check --deploy` (docs/operations.md).
YUYUE_ENV = os.environ.get("YUYUE_ENV", "development").strip().lower()
if YUYUE_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"YUYUE_ENV is {YUYUE_ENV!r}: use 'development' or 'production'.")
PRODUCTION = YUYUE_ENV == "production"
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Key for personal data at rest (phone and ID numbers). Any string; derived into a Fernet key.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
if PRODUCTION:
    _missing = [n for n in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY") if not os.environ.get(n)]
    if _missing:
        raise ImproperlyConfigured(
            f"YUYUE_ENV=production needs {' and '.join(_missing)} in the environment: each a "
            "long random string of its own (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'). See docs/operations.md, 'In production'."
        )
    if DEV_SECRET_KEY in (SECRET_KEY, FIELD_ENCRYPTION_KEY) or SECRET_KEY == FIELD_ENCRYPTION_KEY:
        raise ImproperlyConfigured(
            "YUYUE_ENV=production: SECRET_KEY and FIELD_ENCRYPTION_KEY must be two different "
            "secrets of your own, not the development key."
        )
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or SECRET_KEY
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("YUYUE_ENV=production never runs with DEBUG on.")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
if PRODUCTION:
    # Behind a reverse proxy that ends TLS and says so (nginx: X-Forwarded-Proto $scheme).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "yuyue.core",  # before django_tasks_db: its `db_worker` command is ours (core/workers.py)
    "django_tasks",
    "django_tasks_db",
    "channels",
    "ninja",
    "django_htmx",
    "django_prometheus",
    "yuyue.accounts",
    "yuyue.catalog",
    "yuyue.notifications",
    "yuyue.scheduling",
    "yuyue.pricing",
    "yuyue.orders",
    "yuyue.dispatch",
    "yuyue.billing",
    "yuyue.calls",
    "yuyue.engagement",
    "yuyue.web",
    "yuyue.demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "yuyue.core.logs.RequestLogContext",
    "yuyue.core.middleware.ProblemResponsesMiddleware",
    "yuyue.core.middleware.CleanInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "yuyue.urls"
WSGI_APPLICATION = "yuyue.wsgi.application"
ASGI_APPLICATION = "yuyue.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yuyue.web.customer.views.nav",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "yuyue.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}")
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Each server thread keeps its connection (and SQLite's cache of compiled statements)
    # instead of opening the file, reading the schema and compiling every statement anew on
    # every request: about 1.5x the requests per second, bookings and bare inserts alike
    # (docs/performance.md). DB_CONN_MAX_AGE=0 opens one per request.
    _db["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "600"))
    _db["CONN_HEALTH_CHECKS"] = True
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN, so
    # transactions queue for it (up to `timeout` seconds) instead of failing with
    # "database is locked" when they upgrade from read to write.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": float(os.environ.get("SQLITE_TIMEOUT", "30")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests share the database with real server processes, so it must be a file.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test_{SQLITE_PATH.stem}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["OPTIONS"] = {
        # Parameters sent apart from the statement, which psycopg then prepares on each
        # connection after a few uses: PostgreSQL parses and plans a hot statement once, not on
        # every request. Set DB_SERVER_SIDE_BINDING=0 behind a pooler that cannot keep
        # prepared statements (PgBouncer in transaction mode without max_prepared_statements).
        "server_side_binding": env_bool("DB_SERVER_SIDE_BINDING", True),
        # Django turns psycopg's automatic preparing off by default; after this many uses on
        # one connection a statement is prepared (DB_PREPARE_THRESHOLD=off: never).
        "prepare_threshold": (
            None
            if os.environ.get("DB_PREPARE_THRESHOLD", "5") in ("off", "")
            else int(os.environ.get("DB_PREPARE_THRESHOLD", "5"))
        ),
    }
    if env_bool("DB_POOL", True):
        _db["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": int(os.environ.get("DB_POOL_MAX", "20")),
            "timeout": 30,
        }
# Statements counted and timed for /metrics by django-prometheus's wrappers of the same backends
# (`connection.vendor` stays "sqlite" / "postgresql").
# YUYUE_DB_METRICS=0 leaves them out (a few % of a request's CPU: docs/performance.md).
if env_bool("YUYUE_DB_METRICS", True):
    _db["ENGINE"] = _db["ENGINE"].replace("django.db.backends.", "django_prometheus.db.backends.")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- people ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["yuyue.accounts.backends.PhonePasswordBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "/admin/login/"

YUYUE_DEFAULT_REGION = "CN"  # phone numbers without +country are read as Chinese numbers
YUYUE_TOKEN_DAYS = int(os.environ.get("YUYUE_TOKEN_DAYS", "30"))
YUYUE_OTP_SENDER = os.environ.get("YUYUE_OTP_SENDER", "yuyue.accounts.otp.LogSender")
YUYUE_OTP_TTL_SECONDS = 300
YUYUE_OTP_MAX_ATTEMPTS = 5
YUYUE_OTP_RESEND_SECONDS = 60
# How often one account (phone) or one client address may try (yuyue.core.throttle): "N/Wm" is
# N tries per W minutes (s, m, h, d). JSON in YUYUE_THROTTLE_RATES replaces single entries.
YUYUE_THROTTLE_RATES = {
    "sign_in.account": "10/15m",  # passwords tried for one phone
    "sign_in.client": "50/15m",  # ...from one address, over any phones (spraying)
    "code_send.account": "5/h",  # one-time codes sent to one phone
    "code_send.client": "20/h",  # ...asked for from one address, to any phones
    "code_check.account": "10/15m",  # codes checked for one phone (each code: 5 tries)
    "code_check.client": "50/15m",
    "geocode.account": "60/h",  # addresses looked up on the map by one person (the key's quota)
}
YUYUE_THROTTLE_RATES.update(json.loads(os.environ.get("YUYUE_THROTTLE_RATES") or "{}"))
# The header a trusted reverse proxy puts the client's address in (nginx: X-Real-IP); empty:
# the connection's own address (REMOTE_ADDR). Never set it without such a proxy in front.
YUYUE_CLIENT_ADDRESS_HEADER = os.environ.get("YUYUE_CLIENT_ADDRESS_HEADER", "")
WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
# AMap's (高德) web services: an address found on the map (catalog.geocoding); no key, no lookups
AMAP_API_BASE = os.environ.get("AMAP_API_BASE", "https://restapi.amap.com")
AMAP_KEY = os.environ.get("AMAP_KEY", "")
WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "")
WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "")
# What checks text people write for others (reviews): yuyue.engagement.content.PassChecker (the
# default: passes, and says it did not check) or .WechatChecker (msg_sec_check at WECHAT_API_BASE).
YUYUE_CONTENT_CHECKER = os.environ.get(
    "YUYUE_CONTENT_CHECKER", "yuyue.engagement.content.PassChecker"
)
# Reviews: written within so many days of the order's end; the Bayesian prior (as if every
# provider and merchant started with WEIGHT reviews of MEAN stars; engagement/reviews.py).
YUYUE_REVIEW_WINDOW_DAYS = int(os.environ.get("YUYUE_REVIEW_WINDOW_DAYS", "15"))
YUYUE_CHAT_DAYS_AFTER = int(
    os.environ.get("YUYUE_CHAT_DAYS_AFTER", "7")
)  # an order chat stays open
YUYUE_CHAT_PAGE = 30  # messages a page of history shows
YUYUE_RECOMMEND_DAYS = 90  # "recommended for you" weighs the orders of so many days
YUYUE_RATING_PRIOR_WEIGHT = int(os.environ.get("YUYUE_RATING_PRIOR_WEIGHT", "10"))
YUYUE_RATING_PRIOR_MEAN = float(os.environ.get("YUYUE_RATING_PRIOR_MEAN", "4.0"))
# After-sales cases: the merchant answers within, then the platform decides within (hours).
YUYUE_CASE_ANSWER_HOURS = int(os.environ.get("YUYUE_CASE_ANSWER_HOURS", "48"))
YUYUE_CASE_DECIDE_HOURS = int(os.environ.get("YUYUE_CASE_DECIDE_HOURS", "72"))

# --- booking --------------------------------------------------------------------------------
YUYUE_DEFAULT_TIMEZONE = "Asia/Shanghai"
# Test-only switch that removes the concurrency guards, so the concurrency tests can show the race
# they guard against. Never set it anywhere else.
# Tests only: the module of naive writes for the concurrency tests' controls (yuyue.core.controls)
YUYUE_RACE_CONTROLS = os.environ.get("YUYUE_RACE_CONTROLS", "")
# Exposes /api/_bench/insert, the framework-limit baseline for bench/booking.py.
YUYUE_BENCH_ENDPOINTS = env_bool("YUYUE_BENCH_ENDPOINTS")

# --- jobs and realtime ----------------------------------------------------------------------
# Hall-slot bookings that reach one process together are written in one transaction, up to this
# many (orders/slot_writes.py); 1 writes each alone.
YUYUE_BOOKING_BATCH_MAX = int(os.environ.get("YUYUE_BOOKING_BATCH_MAX", "50"))
TASKS = {"default": {"BACKEND": "yuyue.core.jobqueue.DatabaseBackend"}}
if env_bool("YUYUE_TASKS_IMMEDIATE"):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Workers beat every so many seconds; one silent for DEAD seconds is dead (readiness says so, and
# its running job is run again); a job started LATE seconds after it was due is counted late.
YUYUE_WORKER_BEAT_SECONDS = float(os.environ.get("YUYUE_WORKER_BEAT_SECONDS", "5"))
YUYUE_WORKER_DEAD_SECONDS = float(os.environ.get("YUYUE_WORKER_DEAD_SECONDS", "30"))
YUYUE_JOB_LATE_SECONDS = float(os.environ.get("YUYUE_JOB_LATE_SECONDS", "60"))
# /metrics (Prometheus) asks for `Authorization: Bearer <token>`; without a token it is open in
# development and off (404) in production. PROMETHEUS_MULTIPROC_DIR: see core/metrics.py.
YUYUE_METRICS_TOKEN = os.environ.get("YUYUE_METRICS_TOKEN", "")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # every process writes its values there
    try:
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR cannot be made: {exc}") from exc
REDIS_URL = os.environ.get("REDIS_URL")
# The cache holds the throttling counters: one process's memory by default, shared through Redis
# when REDIS_URL is set (every web process must then see the same counts).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, shorter than the layer's
            # blocking pop waits for a message: every idle socket's consumer crashed after 5 s
            # (channels_redis#422). The layer's pop returns within 5 s, so 30 s is a dead server.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# --- i18n and time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The pages' texts (msgids in English); `make install` compiles the .po files (Babel).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Uploaded files (credential documents) go through Django's storage API: local files here by
# default (never served as they are: a view checks who asks); set STORAGES for object storage.
MEDIA_ROOT = Path(os.environ.get("YUYUE_MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "media/"
# Real-name checks of providers: the default says only whether a name and an ID number are
# well formed; a real service plugs in by class path, reached at its base URL.
YUYUE_REALNAME_VERIFIER = os.environ.get(
    "YUYUE_REALNAME_VERIFIER", "yuyue.accounts.realname.FormatVerifier"
)
YUYUE_REALNAME_BASE_URL = os.environ.get("YUYUE_REALNAME_BASE_URL", "")
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The tables every booking, payment or notice touches: an upgrade's migration must not lock them
# while the old release serves (manage.py migration_locks, docs/operations.md "Upgrades").
YUYUE_HOT_TABLES = [
    "orders.booking",
    "orders.bookingevent",
    "orders.slotusage",
    "scheduling.timeslot",
    "scheduling.providerreservation",
    "billing.payment",
    "billing.entry",
    "billing.transfer",
    "billing.account",
    "notifications.notice",
    "engagement.message",
    "engagement.receipt",
    "accounts.user",
    "accounts.token",
]
# Log lines: plain text in development, JSON in production (LOG_FORMAT overrides either way)
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT is {LOG_FORMAT!r}: use 'json' or 'plain'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "yuyue.core.logs.UtcFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        # one JSON object a line, for a log collector: the request's fields as keys
        "json": {
            "()": "yuyue.core.logs.UtcJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s "
            "%(merchant_id)s %(operation)s %(code)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
    },
    "filters": {
        "quiet_jobs": {"()": "yuyue.core.logs.QuietJobs"},
        "request_fields": {"()": "yuyue.core.logs.RequestFields"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["quiet_jobs", "request_fields"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # the worker logs every job at INFO (see core.logs.QuietJobs for the console)
    },
}

# --- orders ---------------------------------------------------------------------------------
YUYUE_PAYMENT_MINUTES = int(os.environ.get("YUYUE_PAYMENT_MINUTES", "15"))
YUYUE_NO_SHOW_GRACE_MINUTES = int(os.environ.get("YUYUE_NO_SHOW_GRACE_MINUTES", "30"))
YUYUE_NO_SHOW_WAIT_MINUTES = int(os.environ.get("YUYUE_NO_SHOW_WAIT_MINUTES", "15"))
# How long before an order's start a provider may take each step on site (minutes); earlier is
# refused with step_too_early. JSON in YUYUE_STEP_EARLY_MINUTES replaces single entries.
YUYUE_STEP_EARLY_MINUTES = {"depart": 240, "arrive": 120, "start": 60, "complete": 60}
YUYUE_STEP_EARLY_MINUTES.update(json.loads(os.environ.get("YUYUE_STEP_EARLY_MINUTES") or "{}"))

# --- dispatch -------------------------------------------------------------------------------
YUYUE_OFFER_TIMEOUT_SECONDS = int(os.environ.get("YUYUE_OFFER_TIMEOUT_SECONDS", "60"))
# An arrival later than this after the order's start is recorded as a breach (dispatch.record).
YUYUE_LATE_GRACE_MINUTES = int(os.environ.get("YUYUE_LATE_GRACE_MINUTES", "15"))
# Dispatch weighs a provider's breaches of the last YUYUE_RECORD_DAYS days; that many offers
# turned down or left to expire in that time are forgiven, each one more counts as a breach.
YUYUE_RECORD_DAYS = int(os.environ.get("YUYUE_RECORD_DAYS", "30"))
YUYUE_MISSED_OFFERS_ALLOWED = int(os.environ.get("YUYUE_MISSED_OFFERS_ALLOWED", "3"))
YUYUE_DISPATCH_ROUND_SECONDS = int(os.environ.get("YUYUE_DISPATCH_ROUND_SECONDS", "5"))
YUYUE_DISPATCH_MAX_ROUNDS = int(os.environ.get("YUYUE_DISPATCH_MAX_ROUNDS", "5"))
# The most open orders one round considers (soonest first); the rest wait for the next round.
YUYUE_DISPATCH_ROUND_LIMIT = int(os.environ.get("YUYUE_DISPATCH_ROUND_LIMIT", "20000"))
YUYUE_TRAVEL_ESTIMATOR = os.environ.get("YUYUE_TRAVEL_ESTIMATOR") or None
YUYUE_LOCATION_MIN_SECONDS = int(os.environ.get("YUYUE_LOCATION_MIN_SECONDS", "5"))
YUYUE_LOCATION_RETENTION_DAYS = int(os.environ.get("YUYUE_LOCATION_RETENTION_DAYS", "7"))
YUYUE_REMINDER_MINUTES = int(os.environ.get("YUYUE_REMINDER_MINUTES", "60"))
YUYUE_REMINDER_SWEEP_SECONDS = int(os.environ.get("YUYUE_REMINDER_SWEEP_SECONDS", "30"))
# How often unpaid orders past their deadline are looked for (an order expires at most this late)
YUYUE_PAYMENT_SWEEP_SECONDS = int(os.environ.get("YUYUE_PAYMENT_SWEEP_SECONDS", "15"))
YUYUE_SMS_SENDER = os.environ.get("YUYUE_SMS_SENDER", "yuyue.notifications.sms.LogSms")
YUYUE_SMS_KINDS = {"booking.reminder"}  # also sent as a text message; every kind is in-app
# Alibaba Cloud SMS (YUYUE_SMS_SENDER = "yuyue.notifications.aliyun_sms.AliyunSms")
ALIYUN_SMS_BASE = os.environ.get("ALIYUN_SMS_BASE", "https://dysmsapi.aliyuncs.com")
ALIYUN_ACCESS_KEY_ID = os.environ.get("ALIYUN_ACCESS_KEY_ID", "")
ALIYUN_ACCESS_KEY_SECRET = os.environ.get("ALIYUN_ACCESS_KEY_SECRET", "")
ALIYUN_SMS_SIGN_NAME = os.environ.get("ALIYUN_SMS_SIGN_NAME", "")
ALIYUN_SMS_TEMPLATES = json.loads(os.environ.get("ALIYUN_SMS_TEMPLATES") or "{}")
# WeChat subscribe messages 订阅消息: kind of notice -> {"id": template id, "page": the
# mini-program page it opens ({payload} fields), "data": {key: "{payload field}"}}; a kind with
# no template id is not sent through WeChat (the default: none configured).
YUYUE_WECHAT_TEMPLATES = json.loads(
    os.environ.get("YUYUE_WECHAT_TEMPLATES")
    or json.dumps(
        {
            "booking.reminder": {
                "id": "",
                "page": "pages/booking/index?id={booking}",
                "data": {"thing1": "{service}", "time2": "{starts_at}"},
            }
        }
    )
)
YUYUE_WECHAT_MINIPROGRAM_STATE = os.environ.get("YUYUE_WECHAT_MINIPROGRAM_STATE", "formal")
YUYUE_DELIVERY_RETRY_SECONDS = 30  # a failed send waits this long, doubled each try
# WebRTC: STUN/TURN servers for the browsers of a call (JSON list of RTCIceServer); none is
# needed when both sides are on one network.
YUYUE_ICE_SERVERS = json.loads(os.environ.get("YUYUE_ICE_SERVERS", "[]"))
# A TURN server (coturn with use-auth-secret): its URLs (comma-separated) and shared secret. Each
# side of a call gets credentials of its own that expire after YUYUE_TURN_TTL_SECONDS, sent with
# the room's hello (docs/operations.md).
YUYUE_TURN_URLS = [u for u in os.environ.get("YUYUE_TURN_URLS", "").split(",") if u.strip()]
YUYUE_TURN_SECRET = os.environ.get("YUYUE_TURN_SECRET", "")
YUYUE_TURN_TTL_SECONDS = int(os.environ.get("YUYUE_TURN_TTL_SECONDS", "86400"))
# How often an open hall-slot page asks again for the day's places left (htmx polling).
YUYUE_SLOT_POLL_SECONDS = int(os.environ.get("YUYUE_SLOT_POLL_SECONDS", "10"))
YUYUE_CALL_TICK_SECONDS = float(os.environ.get("YUYUE_CALL_TICK_SECONDS", "1"))
YUYUE_CALL_SWEEP_SECONDS = int(os.environ.get("YUYUE_CALL_SWEEP_SECONDS", "10"))

# --- billing --------------------------------------------------------------------------------
# Payment gateways' keys (JSON; see billing/gateways/wechatpay.py and alipay.py). Unset: only
# the wallet and the sandbox take payments.
YUYUE_WECHATPAY = json.loads(os.environ.get("YUYUE_WECHATPAY") or "{}")
YUYUE_ALIPAY = json.loads(os.environ.get("YUYUE_ALIPAY") or "{}")
YUYUE_SANDBOX_SECRET = os.environ.get("YUYUE_SANDBOX_SECRET", "sandbox-" + SECRET_KEY[:16])
# The pay page offers the sandbox gateway (a pretend card payment, for development and demos).
YUYUE_SANDBOX_PAYMENTS = env_bool("YUYUE_SANDBOX_PAYMENTS", not PRODUCTION)
# Where gateways and links reach this platform. By default the address `make run` serves
# (HOST and PORT, as run_platform reads them), so that PORT=8001 make run gets its own sandbox
# payment notifications; in production set it to the public https address.
_serve_host = os.environ.get("HOST", "127.0.0.1")
_serve_host = "127.0.0.1" if _serve_host in ("", "0.0.0.0", "::") else _serve_host
_serve_host = f"[{_serve_host}]" if ":" in _serve_host else _serve_host
YUYUE_PUBLIC_BASE_URL = os.environ.get(
    "YUYUE_PUBLIC_BASE_URL", f"http://{_serve_host}:{os.environ.get('PORT', '8000')}"
).rstrip("/")
YUYUE_SETTLE_AFTER_HOURS = float(os.environ.get("YUYUE_SETTLE_AFTER_HOURS", "72"))
YUYUE_EARNINGS_FREEZE_HOURS = float(os.environ.get("YUYUE_EARNINGS_FREEZE_HOURS", "168"))
YUYUE_MIN_WITHDRAWAL_FEN = int(os.environ.get("YUYUE_MIN_WITHDRAWAL_FEN", "1000"))
YUYUE_QUOTE_MINUTES = int(os.environ.get("YUYUE_QUOTE_MINUTES", "15"))
YUYUE_POINTS_PER_YUAN = int(os.environ.get("YUYUE_POINTS_PER_YUAN", "1"))  # earned per ¥1 paid
YUYUE_POINTS_DAYS = int(os.environ.get("YUYUE_POINTS_DAYS", "365"))  # each grant lasts this long
YUYUE_POINTS_MAX_PERCENT = int(os.environ.get("YUYUE_POINTS_MAX_PERCENT", "50"))  # of a price
