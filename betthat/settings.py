"""Bet-That settings: one file, every value from the environment.

Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=false, ALLOWED_HOSTS, ...
With DATABASE_URL and REDIS_URL unset, the entry points start a real PostgreSQL and Redis
under .data/ (see betthat/embedded.py): the same code paths run on a laptop.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from betthat.settings_parts import api as api_settings
from betthat.settings_parts.beat import beat_schedule
from betthat.settings_parts.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Importing the settings starts nothing. With DATABASE_URL / REDIS_URL unset, the entry
# points (manage.py, scripts/run.py, the pytest plugin) start the embedded servers and export
# their URLs; any other process (a Celery worker or uvicorn started by hand) connects to the
# embedded servers already running. See betthat/embedded.py.
if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    from betthat import embedded

    for _name, _url in embedded.running_urls().items():
        if not os.environ.get(_name):
            os.environ[_name] = _url
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "DATABASE_URL and REDIS_URL are unset and the embedded servers are not running: "
            "set them, or start the embedded ones (make run, python manage.py ..., "
            "python -m betthat.embedded up)."
        )

DEBUG = env.bool("DEBUG", default=True)
# Security (auth): fail closed. Development runs on a known key; with DEBUG=false a missing or
# development SECRET_KEY stops the process here, and `check --deploy` flags it (betthat.E001).
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789abcdef"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a secret value when DEBUG is false (it is missing or the development key)."
    )
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
    "django.contrib.postgres",  # trigram lookups and GIN indexes (people search)
    "channels",
    "rest_framework",
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
    "betthat.core.middleware.PermissionsPolicyMiddleware",
    "betthat.ops.middleware.OutageMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "betthat.users.middleware.ActiveUserMiddleware",
    "betthat.users.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "betthat.users.middleware.SessionIdleTimeoutMiddleware",
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
# The ASGI server's thread pool for sync views (betthat/asgi.py).
HTTP_THREADS = env.int("HTTP_THREADS", default=8)

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
# Redis clients (betthat/core/redis.py): one pool per process and reply type, these settings
# for every pool of ours, Django's cache included. The channel layer reads with its own,
# longer timeout (below).
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=1000)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=5.0)
REDIS_SOCKET_CONNECT_TIMEOUT = env.float("REDIS_SOCKET_CONNECT_TIMEOUT", default=5.0)
REDIS_HEALTH_CHECK_INTERVAL = env.int("REDIS_HEALTH_CHECK_INTERVAL", default=30)
# Each pytest-xdist worker gets its own key prefix so tests never see each other's groups;
# REDIS_KEY_PREFIX separates whole checkouts that share one Redis (pub/sub ignores db numbers).
TEST_PREFIX = env("REDIS_KEY_PREFIX", default="") + os.environ.get("PYTEST_XDIST_WORKER", "")
CACHES = {
    "default": {
        "BACKEND": "betthat.core.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"bt{TEST_PREFIX}",
        # One pool per process: without it every HTTP request opened a Redis connection.
        "OPTIONS": {"pool_class": "betthat.core.cache.SharedConnectionPool"},
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "betthat.core.channel_layer.RedisChannelLayer",
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

# --- Chat (chat/) ---
# Messages live in a table range-partitioned on their time: one partition per month or week,
# created CHAT_PARTITIONS_AHEAD intervals ahead by a beat task; partitions older than
# CHAT_RETENTION_DAYS are dropped (0 keeps everything).
CHAT_PARTITION_INTERVAL = env("CHAT_PARTITION_INTERVAL", default="month")
CHAT_PARTITIONS_AHEAD = env.int("CHAT_PARTITIONS_AHEAD", default=2)
CHAT_RETENTION_DAYS = env.int("CHAT_RETENTION_DAYS", default=0)
CHAT_RATE_MESSAGES = env.int("CHAT_RATE_MESSAGES", default=5)  # per user, per window
CHAT_RATE_WINDOW_SEC = env.int("CHAT_RATE_WINDOW_SEC", default=10)
# Every other kind of chat write has its own per-user limit (a sliding window in Redis, so it
# holds across a user's sockets, ASGI processes and the API): "kind=count/seconds,...";
# kinds not named keep the default below.
CHAT_WRITE_LIMITS: dict[str, tuple[int, int]] = {
    "reaction": (20, 10),
    "report": (5, 60),
    "typing": (10, 30),
    "delete": (10, 60),
    "history": (20, 60),
}
for _kind, _limit in (part.split("=", 1) for part in env.list("CHAT_WRITE_LIMITS", default=[]) if part):
    _count, _seconds = _limit.split("/", 1)
    if _kind.strip() not in CHAT_WRITE_LIMITS or int(_count) < 1 or int(_seconds) < 1:
        raise ImproperlyConfigured(f"CHAT_WRITE_LIMITS: {_kind}={_limit} is not kind=count/seconds.")
    CHAT_WRITE_LIMITS[_kind.strip()] = (int(_count), int(_seconds))
CHAT_ROOM_CLOSE_AFTER_HOURS = env.int("CHAT_ROOM_CLOSE_AFTER_HOURS", default=6)
CHAT_BLOCKED_WORDS = env.list("CHAT_BLOCKED_WORDS", default=[])
# Links in messages: "block" refuses them unless their host is in CHAT_ALLOWED_LINK_DOMAINS;
# "allow" lets every link through (shown as text, never as a live link).
CHAT_LINK_POLICY = env("CHAT_LINK_POLICY", default="block")
CHAT_ALLOWED_LINK_DOMAINS = env.list("CHAT_ALLOWED_LINK_DOMAINS", default=[])
CHAT_HISTORY_PAGE = env.int("CHAT_HISTORY_PAGE", default=50)
CHAT_PRESENCE_TTL_SEC = env.int("CHAT_PRESENCE_TTL_SEC", default=45)
CHAT_SOCKET_FRAMES_PER_SEC = env.int("CHAT_SOCKET_FRAMES_PER_SEC", default=10)
# Live frames queued behind a socket whose send waits (a client that reads slowly or not at
# all) before the hub closes it with 1013 and it reconnects (betthat/core/hub.py).
HUB_SLOW_SOCKET_FRAMES = env.int("HUB_SLOW_SOCKET_FRAMES", default=256)
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=4096)
# Demo bettors (seed_demo's accounts) say a line now and then; only they ever speak.
CHAT_DEMO_CHATTER = env.bool("CHAT_DEMO_CHATTER", default=DEBUG)

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
# Security (auth): sensitive steps need the password (or a two-factor code) confirmed within
# this many seconds: email add / make primary / remove (allauth), two-factor changes (allauth.mfa),
# and ours through betthat/users/reauth.py (API tokens, withdrawals).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
MFA_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT_SECONDS", default=300)
# Security (auth): client addresses. Forwarded headers are trusted only from this many proxies
# of our own in front of the app (0: the socket address, whatever X-Forwarded-For says); DRF's
# throttles (NUM_PROXIES below) and allauth's rate limits read the same number.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default="")
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER or None
# Both are read through one function, betthat.core.client_ip.client_ip: allauth (the adapter),
# the API's throttles, /metrics and /readyz, and the geo check all see the same address.
# API tokens expire after this long (a new one comes from POST /api/v1/auth/token/).
API_TOKEN_LIFETIME = timedelta(days=env.int("API_TOKEN_LIFETIME_DAYS", default=30))
# --- Performance: API token -> user cached in Redis (betthat/users/token_cache.py) ---
# How long a token's (user, token) may be served from Redis; revocation is immediate anyway
# (a tombstone on delete), and a saved user row drops its entries.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=300)
# A signed-in browser idle for this long is signed out on its next request.
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30))
# Open websockets re-check their session (expired, deleted) at least this often, besides at
# its idle deadline, on every frame they receive, and when it ends (betthat/users/sockets.py).
SOCKET_SESSION_RECHECK_SECONDS = env.int("SOCKET_SESSION_RECHECK_SECONDS", default=300)
# Examples per API operation in tests/core/test_schemathesis.py (CI may raise it).
SCHEMATHESIS_EXAMPLES = env.int("SCHEMATHESIS_EXAMPLES", default=10)
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
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Browser features no page of ours uses are switched off (Permissions-Policy header).
PERMISSIONS_POLICY = env(
    "PERMISSIONS_POLICY",
    default="camera=(), microphone=(), geolocation=(), payment=(), usb=()",
)
# CSRF refusals under /api/ answer in the error shape (pages keep Django's page).
CSRF_FAILURE_VIEW = "betthat.core.views.csrf_failure"
# Request bodies: Django's limit, which the API's parsers honour too (413 payload_too_large).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# Front end: Content-Security-Policy (django-csp). Scripts only from our origin: no inline
# script, no inline event handler, no eval (htmx's eval is off by its meta config). The API
# docs (Swagger UI) relax styles and images per view in urls.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": [
            "'self'",
            *env.list("CSP_FORM_ACTION_EXTRA", default=["https://checkout.stripe.com"]),
        ],
    },
}

REST_FRAMEWORK = api_settings.rest_framework_settings(
    debug=DEBUG,
    num_proxies=TRUSTED_PROXY_COUNT,
    throttle_rates={
        "anon": env("THROTTLE_ANON", default="120/min"),
        "user": env("THROTTLE_USER", default="6000/min"),
        "token": env("THROTTLE_TOKEN", default="10/min"),
        "people_search": env("THROTTLE_PEOPLE_SEARCH", default="30/min"),
    },
)
SPECTACULAR_SETTINGS = api_settings.SPECTACULAR
# --- Performance: the benchmark's floor (bench/betting) ---
# Mounts the authenticated no-op POST /api/v1/bench/noop/ (betthat/core/bench_api.py); only
# the benchmark's own server turns it on.
BENCH_NOOP_API = env.bool("BENCH_NOOP_API", default=False)

# Celery: Redis broker, five queues (betthat/celery.py); tasks that move money are acks_late.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("default", "odds", "settlement", "closing", "email")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The outbox asks a worker to relay right after a commit (off in benchmarks and some tests).
OUTBOX_NUDGE = env.bool("OUTBOX_NUDGE", default=True)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300, "global_keyprefix": TEST_PREFIX}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks: CELERY_BEAT_SCHEDULE, after the Social and Betting settings it reads (the
# table is in betthat/settings_parts/beat.py).

# Social: public profiles, delayed public bets, feed, leaderboards (docs/social.md).
SOCIAL_DEFAULT_DELAY_SEC = env.int("SOCIAL_DEFAULT_DELAY_SEC", default=300)
SOCIAL_LEADERBOARD_MIN_BETS = env.int("SOCIAL_LEADERBOARD_MIN_BETS", default=20)
SOCIAL_LEADERBOARD_INTERVAL_SEC = env.int("SOCIAL_LEADERBOARD_INTERVAL_SEC", default=300)
# The beat sweep that pushes bets whose delay has passed to followers' open feeds; bets
# with a delay up to SOCIAL_RELEASE_ETA_MAX_SEC also get a task scheduled at visible_from.
SOCIAL_RELEASE_INTERVAL_SEC = env.int("SOCIAL_RELEASE_INTERVAL_SEC", default=5)
SOCIAL_RELEASE_ETA_MAX_SEC = env.int("SOCIAL_RELEASE_ETA_MAX_SEC", default=240)
SOCIAL_FEED_PAGE_SIZE = env.int("SOCIAL_FEED_PAGE_SIZE", default=20)
SOCIAL_MAX_FOLLOWING = env.int("SOCIAL_MAX_FOLLOWING", default=2000)
# How shared spaces (chat) name a user: their public handle, read through this function
# (`(*, user_ids) -> {user_id: handle}`, only users anyone may see), else a stable anonymous
# label. A setting, so the users app names social's reader without importing social.
USERS_PUBLIC_HANDLES = "social.selectors.public_handles"
# A handle change is a question "is this handle free?": each user may ask it this many times
# an hour, so nobody can walk the handle space to find private profiles.
SOCIAL_HANDLE_CHANGES_PER_HOUR = env.int("SOCIAL_HANDLE_CHANGES_PER_HOUR", default=10)
# A handle given up (renamed away from, or deleted with its account) is held this long.
SOCIAL_HANDLE_COOLING_DAYS = env.int("SOCIAL_HANDLE_COOLING_DAYS", default=90)

# The Odds API v4 poller.
# Edge alerts: each user is told of at most this many matching edges an hour one by one;
# past it one summary, then the rest wait on the alerts page (edges/alerts.py).
EDGE_ALERTS_PER_HOUR = env.int("EDGE_ALERTS_PER_HOUR", default=10)
ODDS_API_KEY = env("ODDS_API_KEY", default="")
ODDS_API_BASE_URL = env("ODDS_API_BASE_URL", default="https://api.the-odds-api.com")
ODDS_API_SPORTS = env.list("ODDS_API_SPORTS", default=["americanfootball_nfl", "basketball_nba"])
ODDS_API_REGIONS = env("ODDS_API_REGIONS", default="us,eu")
ODDS_API_MARKETS = env("ODDS_API_MARKETS", default="h2h,spreads,totals")
# Edges feeds: how the poller paces itself (see README "Odds feeds"). Each sport's odds are
# polled every ODDS_API_POLL_SECONDS, stretched (up to ODDS_API_MAX_INTERVAL_SECONDS) once
# fewer than ODDS_API_QUOTA_LOW requests remain, and not at all at ODDS_API_QUOTA_RESERVE
# (the free /v4/sports call then checks hourly whether the quota was reset). Errors and 429s
# back off exponentially from ODDS_API_BACKOFF_SECONDS up to ODDS_API_BACKOFF_MAX_SECONDS.
ODDS_API_POLL_SECONDS = env.int("ODDS_API_POLL_SECONDS", default=60)
ODDS_API_SCORES_POLL_SECONDS = env.int("ODDS_API_SCORES_POLL_SECONDS", default=300)
ODDS_API_MAX_INTERVAL_SECONDS = env.int("ODDS_API_MAX_INTERVAL_SECONDS", default=3600)
ODDS_API_QUOTA_LOW = env.int("ODDS_API_QUOTA_LOW", default=500)
ODDS_API_QUOTA_RESERVE = env.int("ODDS_API_QUOTA_RESERVE", default=10)
ODDS_API_QUOTA_PROBE_SECONDS = env.int("ODDS_API_QUOTA_PROBE_SECONDS", default=3600)
ODDS_API_BACKOFF_SECONDS = env.int("ODDS_API_BACKOFF_SECONDS", default=30)
ODDS_API_BACKOFF_MAX_SECONDS = env.int("ODDS_API_BACKOFF_MAX_SECONDS", default=1800)
ODDS_API_TIMEOUT_SECONDS = env.float("ODDS_API_TIMEOUT_SECONDS", default=15.0)
# Odds websocket (/ws/odds/): per-socket bounds.
ODDS_WS_MAX_EVENTS = env.int("ODDS_WS_MAX_EVENTS", default=50)
ODDS_WS_SUBSCRIBES_PER_MINUTE = env.int("ODDS_WS_SUBSCRIBES_PER_MINUTE", default=30)
ODDS_WS_MAX_FRAME_BYTES = env.int("ODDS_WS_MAX_FRAME_BYTES", default=8192)
# The board's recommended stake needs the viewer's bankroll, which the wallet owns; edges
# must not import wallet, so the reader is named here: called as f(user=, currency=), it
# returns the available amount in minor units (an int, or an object with `available_minor`).
BANKROLL_PROVIDER = env("BANKROLL_PROVIDER", default="wallet.selectors.wallet_balances_for_user")

# Payments.
PAYMENTS_PROVIDER = env("PAYMENTS_PROVIDER", default="sandbox")
SANDBOX_WEBHOOK_SECRET = env("SANDBOX_WEBHOOK_SECRET", default="whsec_sandbox_dev_only" if DEBUG else "")
STRIPE_API_KEY = env("STRIPE_API_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# The sandbox provider delivers its own webhook after a checkout (tests turn it off).
SANDBOX_AUTO_DELIVER = env.bool("SANDBOX_AUTO_DELIVER", default=True)

# Betting venue: where accepted bets are placed; the sandbox venue's behaviour for tests and demos.
BETTING_VENUE = env("BETTING_VENUE", default="betting.venues.SandboxVenue")
BETTING_SANDBOX_REJECT_RATE = env.float("BETTING_SANDBOX_REJECT_RATE", default=0.0)
BETTING_SANDBOX_REJECT_BOOKS = env.list("BETTING_SANDBOX_REJECT_BOOKS", default=[])
BETTING_SANDBOX_DELAY_MS = env.int("BETTING_SANDBOX_DELAY_MS", default=0)
BETTING_SANDBOX_CANCELLABLE = env.bool("BETTING_SANDBOX_CANCELLABLE", default=True)
# A bet still `placing` this long after placement is resolved from the venue (fill or release:
# betting/services/recovery.py, every BETTING_PLACING_SWEEP_SECONDS). Longer than any venue
# call can take, or a placement still waiting on the venue could see its stake released.
BETTING_PLACING_RECOVERY_SECONDS = env.int("BETTING_PLACING_RECOVERY_SECONDS", default=120)
BETTING_PLACING_SWEEP_SECONDS = env.int("BETTING_PLACING_SWEEP_SECONDS", default=60)

# Periodic tasks, declared in one place; django-celery-beat copies them into the database
# where staff can edit them in the admin.
CELERY_BEAT_SCHEDULE = beat_schedule(
    social_leaderboard_seconds=SOCIAL_LEADERBOARD_INTERVAL_SEC,
    social_release_seconds=SOCIAL_RELEASE_INTERVAL_SEC,
    placing_sweep_seconds=BETTING_PLACING_SWEEP_SECONDS,
)

# Wallet (payments security, staff adjustments, withdrawals; see docs/wallet.md).
# The sandbox with DEBUG=false only when explicitly allowed (system check wallet.E001).
SANDBOX_ALLOWED_WITHOUT_DEBUG = env.bool("SANDBOX_ALLOWED_WITHOUT_DEBUG", default=False)
# Provider webhook bodies larger than this are refused with 413.
WALLET_WEBHOOK_MAX_BYTES = env.int("WALLET_WEBHOOK_MAX_BYTES", default=64 * 1024)
# A staff adjustment above this many minor units needs a second staff member's approval.
WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = env.int("WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR", default=50_000)
# What one staff member grants, and what one account receives, without a second approver
# (adjustments booked at once, manual settlement winnings) counts over this many rolling hours
# against the same threshold (wallet/services/staff_grants.py).
WALLET_STAFF_GRANT_WINDOW_HOURS = env.int("WALLET_STAFF_GRANT_WINDOW_HOURS", default=24)
# A withdrawal whose provider call failed ambiguously is resubmitted (same idempotency key)
# by a periodic task, at most this many times, before staff are left to look at it.
WALLET_WITHDRAWAL_SUBMIT_ATTEMPTS = env.int("WALLET_WITHDRAWAL_SUBMIT_ATTEMPTS", default=10)

# Compliance hooks (pluggable; allow by default). KYC_CHECK names the identity provider: a
# callable gate (user, amount_minor=) -> bool that may also take submissions and webhooks
# (betthat/users/kyc.py; the sandbox approves only its documented test documents).
KYC_CHECK = env("KYC_CHECK", default="betthat.users.kyc.sandbox_kyc")
# The secret the KYC sandbox signs its webhooks with (development default only with DEBUG).
KYC_WEBHOOK_SECRET = env("KYC_WEBHOOK_SECRET", default="whsec_kyc_sandbox_dev_only" if DEBUG else "")
# The KYC sandbox takes submissions only in development, or where the sandbox is explicitly
# allowed without DEBUG: a production site never verifies anyone with its test documents.
KYC_SANDBOX_ENABLED = DEBUG or SANDBOX_ALLOWED_WITHOUT_DEBUG
GEO_CHECK = env("GEO_CHECK", default="betthat.users.compliance.allow_geo")
GEO_DENY_LIST = env.list("GEO_DENY_LIST", default=[])
# The default geo hook's address-to-region table ({"203.0.113.0/24": "XX"}); a real deployment
# points GEO_CHECK at its GeoIP provider instead. The region never comes from the client.
GEO_IP_REGIONS = env.dict("GEO_IP_REGIONS", default={})

DEFAULT_CURRENCY = "USD"
CURRENCIES = ("USD", "EUR", "GBP")

# Betting: what the house accepts, and its execution venue (docs/betting.md).
BETTING_MAX_LEGS = env.int("BETTING_MAX_LEGS", default=12)
# The most a single bet may return (stake included), in minor units of the bet's currency.
BETTING_MAX_PAYOUT_MINOR = env.int("BETTING_MAX_PAYOUT_MINOR", default=10_000_000)
# The highest decimal price (combined, for a parlay) a bet may be taken at.
BETTING_MAX_PRICE_DECIMAL = env("BETTING_MAX_PRICE_DECIMAL", default="1001")
# A pending bet may be cancelled this long after placement; later only if the venue voids it.
BETTING_CANCEL_GRACE_SECONDS = env.int("BETTING_CANCEL_GRACE_SECONDS", default=60)
# Limits count stakes in every currency: each currency's value in one common unit, so a stake
# in EUR counts against a USD limit at EUR/USD. Fixed on purpose (a limit must not move with
# the market); review them with the compliance team.
BETTING_FX_RATES = env.dict("BETTING_FX_RATES", default={"USD": "1.00", "EUR": "1.08", "GBP": "1.27"})

LOGGING = logging_config(log_format=LOG_FORMAT, level=env("LOG_LEVEL", default="INFO"))
