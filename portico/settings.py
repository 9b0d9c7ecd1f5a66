"""Portico settings: one module, configured from the environment.

`PORTICO_ENV=production` turns on the deploy hardening (HTTPS-only cookies, HSTS, CSP);
everything secret comes from the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("PORTICO_ENV", "development")
PRODUCTION = ENV == "production"

_DEV_SECRET = "portico-development-secret-key-not-for-production-use-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and len(SECRET_KEY) < 50:
    raise RuntimeError("SECRET_KEY must be set to at least 50 characters in production")

DEBUG = os.environ.get("DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The platform operator's site (/operator/, portico/notifications/admin.py); no autodiscovery.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # First, so its templates restyle allauth's pages.
    "portico.web",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    "csp",
    "portico.tenancy",
    "portico.identity",
    "portico.access",
    "portico.devices",
    "portico.remote",
    "portico.backups",
    "portico.tickets",
    "portico.saas",
    "portico.reports",
    "portico.audit",
    "portico.notifications",
    "portico.jobs",
    "portico.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "portico.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Before the membership middleware, which tells a disabled person why their session ended (ID-6).
    "django.contrib.messages.middleware.MessageMiddleware",
    "portico.identity.middleware.ActiveMembershipMiddleware",
    "portico.identity.middleware.PersonLanguageMiddleware",
    "portico.identity.middleware.SecondFactorGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portico.urls"
ASGI_APPLICATION = "portico.asgi.application"
WSGI_APPLICATION = "portico.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portico.web.context_processors.portico",
            ],
        },
    },
]

DATABASES = {
    # An empty DATABASE_URL is the same as none: the SQLite file under var/. Connections are kept
    # for a minute and checked before reuse: an agent's message must not open a new PostgreSQL
    # connection (that made a node handle 66 messages a second instead of some hundreds).
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'portico.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker write while the web server reads.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.Person"
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in (django-allauth)
ACCOUNT_ADAPTER = "portico.identity.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Portico] "
ACCOUNT_REAUTHENTICATION_TIMEOUT = 600
# ID-12: failures per address and IP are slowed (each failed attempt costs an Argon2 hash and
# counts), then the address is locked for the rest of the window with a message.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": os.environ.get("LOGIN_FAILED_LIMIT", "5/15m/key,20/15m/ip"),
    "reset_password": "10/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "identity:pick"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
MFA_ADAPTER = "portico.identity.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Portico"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION

SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
SMS_CODE_TTL_SECONDS = 300

INVITATION_TTL_HOURS = 24

# I18N (ID-11)
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("pt-br", _("Portuguese")),
    ("ja", _("Japanese")),
    ("de", _("German")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = BASE_DIR / "var" / "media"
# Where devices' restic repositories keep their bytes (portico/backups/files.py): a storage class
# and its options. A folder by default; with BACKUP_S3_BUCKET, a bucket of S3-compatible object
# storage through django-storages (README, "Running it for real"). Without BACKUP_S3_ACCESS_KEY_ID,
# django-storages reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and the server's restic gets
# the same (backups/location.py); without any, both fall back to the machine's instance role.
BACKUP_STORAGE: dict[str, object]
if os.environ.get("BACKUP_S3_BUCKET"):
    BACKUP_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["BACKUP_S3_BUCKET"],
            "location": os.environ.get("BACKUP_S3_PREFIX", "backups"),
            **{
                option: os.environ[variable]
                for option, variable in (
                    ("endpoint_url", "BACKUP_S3_ENDPOINT_URL"), ("region_name", "BACKUP_S3_REGION"),
                    ("access_key", "BACKUP_S3_ACCESS_KEY_ID"), ("secret_key", "BACKUP_S3_SECRET_ACCESS_KEY"),
                )
                if os.environ.get(variable)
            },
        },
    }
else:
    BACKUP_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": BASE_DIR / "var" / "backups"},
    }
# The server's restic (portico/backups/restic.py) and the cache it keeps of repositories' indexes.
RESTIC_BINARY = os.environ.get("RESTIC_BINARY", "restic")
BACKUP_CACHE_DIR = os.environ.get("BACKUP_CACHE_DIR", str(BASE_DIR / "var" / "restic-cache"))
# No MEDIA_URL is served: ticket attachments leave only through an access-checked view.

# Keys that seal secrets at rest (portico/notifications/secrets.py); derived from SECRET_KEY when empty.
PORTICO_ENCRYPTION_KEYS = os.environ.get("PORTICO_ENCRYPTION_KEYS", "")

# Ticket attachments (TK-1): a size limit and the content types a portal may accept.
TICKET_ATTACHMENT_MAX_BYTES = int(os.environ.get("TICKET_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
TICKET_ATTACHMENT_TYPES = [
    t
    for t in os.environ.get(
        "TICKET_ATTACHMENT_TYPES",
        "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,application/zip,"
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
        "application/vnd.openxmlformats-officedocument.presentationml.presentation,"
        "application/msword,application/vnd.ms-excel,application/vnd.oasis.opendocument.text,"
        "application/vnd.oasis.opendocument.spreadsheet,message/rfc822,application/json,application/xml",
    ).split(",")
    if t
]

# Email: the outbox job sends through this SMTP server.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
EMAIL_TIMEOUT = 15
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Portico <no-reply@portico.localhost>")
OUTBOX_MAX_ATTEMPTS = 8

# The cache holds sign-in rate limits and used TOTP codes: shared through Redis when there is one.
if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background jobs (Huey): SQLite by default, Redis when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")

# Live connections (agents, and the browser sessions relayed to them) are served over ASGI by
# Channels. Several web nodes share them through Redis; one node keeps them in memory.
ASGI_APPLICATION = "portico.asgi.application"
if REDIS_URL:
    # redis-py 8 reads with a 5 s timeout by default, the same as the layer's blocking wait for
    # messages: an idle consumer would fail every 5 s (channels_redis issue 422). No read timeout.
    REDIS_CHANNEL_HOST = {"address": REDIS_URL, "socket_timeout": None}
    CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # Installations sharing one Redis keep apart with a prefix of their own.
        "CONFIG": {"hosts": [REDIS_CHANNEL_HOST], "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "asgi")},
    }}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
HUEY_IMMEDIATE = os.environ.get("HUEY_IMMEDIATE", "0") == "1"
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "portico"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "portico",
        "filename": str(BASE_DIR / "var" / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portico.api.authentication.BearerTokenAuthentication",
        "portico.api.authentication.MembershipSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portico.api.permissions.HasActiveMembership"],
    "DEFAULT_PARSER_CLASSES": [
        "portico.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "portico.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portico API",
    "DESCRIPTION": "REST API of Portico, the self-hosted portal for managed-service providers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status"; each keeps its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "portico.tickets.models.TicketStatus",
        "SubscriptionStatusEnum": "portico.saas.models.SubscriptionStatus",
        "AccountStatusEnum": "portico.saas.models.AccountStatus",
    },
}

# Security baseline
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
