"""Bet-That settings: one file, every value from the environment.

Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=false, ALLOWED_HOSTS, ...
With DATABASE_URL and REDIS_URL unset, a real PostgreSQL and Redis are started
under .data/ (see betthat/embedded.py): the same code paths run on a laptop.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    from betthat import embedded

    _urls = embedded.ensure_running(
        postgres=not os.environ.get("DATABASE_URL"), redis=not os.environ.get("REDIS_URL")
    )
    os.environ.setdefault("DATABASE_URL", _urls["DATABASE_URL"])
    os.environ.setdefault("REDIS_URL", _urls["REDIS_URL"])

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789abcdef")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djmoney",
    "django_celery_beat",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "betthat.core",
    "betthat.users",
    "wallet",
    "edges",
    "betting",
    "social",
    "chat",
    "betthat.ops",
]

MIDDLEWARE = [
    "betthat.ops.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "betthat.ops.middleware.OutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "betthat.users.middleware.ActiveUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Operations (betthat/ops): health, readiness, metrics, the staff dashboard, outages as 503.
# /metrics is open with DEBUG; otherwise to these socket addresses, or with this bearer token.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_BEARER_TOKEN = env("METRICS_BEARER_TOKEN", default="")
# Set for several server processes: prometheus-client then sums their metrics from this folder.
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")
OPS_RETRY_AFTER_SECONDS = env.int("OPS_RETRY_AFTER_SECONDS", default=5)  # Retry-After on a 503
OPS_REDIS_TIMEOUT_SECONDS = env.float("OPS_REDIS_TIMEOUT_SECONDS", default=1.0)  # probes never hang
OPS_MIGRATIONS_CHECK_SECONDS = env.int("OPS_MIGRATIONS_CHECK_SECONDS", default=60)
OPS_DASHBOARD_REFRESH_SECONDS = env.int("OPS_DASHBOARD_REFRESH_SECONDS", default=10)
OPS_DASHBOARD_CACHE_SECONDS = env.int("OPS_DASHBOARD_CACHE_SECONDS", default=5)  # shared by all viewers
OPS_LEDGER_CHECK_SECONDS = env.int("OPS_LEDGER_CHECK_SECONDS", default=60)
OPS_OUTBOX_LAG_WARN_SECONDS = env.int("OPS_OUTBOX_LAG_WARN_SECONDS", default=30)
OPS_SETTLEMENT_LAG_WARN_SECONDS = env.int("OPS_SETTLEMENT_LAG_WARN_SECONDS", default=300)
LOG_FORMAT = env("LOG_FORMAT", default="plain")  # "json": one JSON object per line
if LOG_FORMAT not in ("plain", "json"):
    raise ValueError(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}")
SENTRY_DSN = env("SENTRY_DSN", default="")  # errors (and optional traces) to Sentry when set
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )

ROOT_URLCONF = "betthat.urls"
WSGI_APPLICATION = "betthat.wsgi.application"
ASGI_APPLICATION = "betthat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "betthat.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
# Persistent connections: HTTP runs in a fixed thread pool (see asgi.py), workers and
# commands in their own process, so each thread keeps one connection.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})
if env("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env("TEST_DATABASE_NAME")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
# Each pytest-xdist worker gets its own key prefix so tests never see each other's groups;
# REDIS_KEY_PREFIX separates whole checkouts that share one Redis (pub/sub ignores db numbers).
TEST_PREFIX = env("REDIS_KEY_PREFIX", default="") + os.environ.get("PYTEST_XDIST_WORKER", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"bt{TEST_PREFIX}",
        # One pool per process: without it every HTTP request opened a Redis connection.
        "OPTIONS": {"pool_class": "betthat.core.cache.SharedConnectionPool"},
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py caps the async pool at 100 connections by default: 200 websocket
            # clients failed in group_add until the pool was raised.
            # redis-py 8 reads with a 5 s socket timeout by default, and channels_redis
            # blocks in BZPOPMIN for 5 s: under load the read lost the race and killed
            # the consumer ("Timeout reading from ..."). Reads must outlast the block.
            "hosts": [{"address": REDIS_URL, "max_connections": 1000, "socket_timeout": 30}],
            "prefix": f"asgi{TEST_PREFIX}",
            "capacity": 1500,
            "expiry": 30,
        },
    }
}

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "betthat.users.backends.StatusAwareBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

# allauth 65: email is the login, verified before use.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_ADAPTER = "betthat.users.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key", "signup": "20/m/ip"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Bet-That] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Bet-That"
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
LOGOUT_REDIRECT_URL = "/"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Bet-That <no-reply@bet-that.local>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves static files from the ASGI process too; in development straight
# from the app folders, in production from collectstatic's output.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Without collectstatic (development, tests, benchmarks) the finders serve everything;
# WhiteNoise's warning about the missing STATIC_ROOT would only be noise there.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media"))
MEDIA_URL = "/media/"

# Object storage for the audit trail: local files by default, S3 when configured.
AUDIT_STORAGE_BACKEND = env("AUDIT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")
AUDIT_STORAGE_OPTIONS: dict = (
    {"location": str(env.path("AUDIT_ROOT", default=str(BASE_DIR / ".data" / "audit")))}
    if AUDIT_STORAGE_BACKEND.endswith("FileSystemStorage")
    else {
        "bucket_name": env("AWS_STORAGE_BUCKET_NAME", default=""),
        "location": env("AUDIT_PREFIX", default="audit"),
    }
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "audit": {"BACKEND": AUDIT_STORAGE_BACKEND, "OPTIONS": AUDIT_STORAGE_OPTIONS},
}

# Security: production values come from the environment; `check --deploy` is clean with them.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "betthat.core.authentication.BearerOrTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["betthat.core.authentication.IsActiveUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_SCHEMA_CLASS": "betthat.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "betthat.ops.api.exception_handler",  # outages -> 503, else core's
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="120/min"),
        "user": env("THROTTLE_USER", default="6000/min"),
        "token": env("THROTTLE_TOKEN", default="10/min"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bet-That API",
    "DESCRIPTION": "Edges, one wallet, bets and a verified record. Errors: "
    '{"error": {"code", "message", "details"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "edges.models.Event.Status",
        "EdgeStatusEnum": "edges.models.Edge.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: Redis broker, three queues; tasks that move money are acks_late.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("default", "odds", "settlement")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300, "global_keyprefix": TEST_PREFIX}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks, declared in one place; django-celery-beat copies them into the
# database where staff can edit them in the admin.
CELERY_BEAT_SCHEDULE: dict = {
    "wallet-prune-idempotency-keys": {
        "task": "wallet.tasks.prune_idempotency_keys_task",
        "schedule": crontab(minute=17),
    },
    "core-relay-outbox": {
        "task": "betthat.core.tasks.relay_outbox_task",
        "schedule": timedelta(seconds=1),
    },
    "edges-expire": {
        "task": "edges.tasks.expire_edges_task",
        "schedule": timedelta(seconds=5),
    },
    "edges-cleanup-daily": {
        "task": "edges.tasks.cleanup_expired_edges_task",
        "schedule": crontab(hour=4, minute=0),
    },
    "edges-audit-odds-hourly": {
        "task": "edges.tasks.audit_odds_snapshot_task",
        "schedule": crontab(minute=0),
    },
    "betting-settle-due": {
        "task": "betting.tasks.settle_due_bets_task",
        "schedule": timedelta(seconds=30),
    },
    "betting-capture-closing-lines": {
        "task": "betting.tasks.capture_closing_lines_task",
        "schedule": timedelta(seconds=15),
    },
}

# The Odds API v4 poller.
ODDS_API_KEY = env("ODDS_API_KEY", default="")
ODDS_API_BASE_URL = env("ODDS_API_BASE_URL", default="https://api.the-odds-api.com")
ODDS_API_SPORTS = env.list("ODDS_API_SPORTS", default=["americanfootball_nfl", "basketball_nba"])
ODDS_API_REGIONS = env("ODDS_API_REGIONS", default="us,eu")
ODDS_API_MARKETS = env("ODDS_API_MARKETS", default="h2h,spreads,totals")

# Payments.
PAYMENTS_PROVIDER = env("PAYMENTS_PROVIDER", default="sandbox")
SANDBOX_WEBHOOK_SECRET = env("SANDBOX_WEBHOOK_SECRET", default="whsec_sandbox_dev_only")
STRIPE_API_KEY = env("STRIPE_API_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")

# Compliance hooks (pluggable; allow by default).
KYC_CHECK = env("KYC_CHECK", default="betthat.users.compliance.allow_kyc")
GEO_CHECK = env("GEO_CHECK", default="betthat.users.compliance.allow_geo")
GEO_DENY_LIST = env.list("GEO_DENY_LIST", default=[])

DEFAULT_CURRENCY = "USD"
CURRENCIES = ("USD", "EUR", "GBP")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "betthat.ops.jsonlog.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        # The outbox relay runs every second: per-task lines would drown everything else.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
    },
}
