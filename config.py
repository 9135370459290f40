"""Configuration from environment variables: the variables of CONTRACT.md, with their defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
LOG_FORMATS = ("text", "json")  # plain lines, or one JSON object per line with the request's id


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the platform can start with."""


def _database_url(value: str | None) -> str:
    if not value:
        return f"sqlite:///{INSTANCE_DIR / 'playground.db'}"
    # Hosting platforms still hand out `postgres://`, which SQLAlchemy dropped; and a bare
    # `postgresql://` means psycopg 3 to SQLAlchemy 2.1, while we ship psycopg2.
    for scheme in ("postgres://", "postgresql://"):
        if value.startswith(scheme):
            return "postgresql+psycopg2://" + value.removeprefix(scheme)
    return value


def _switch(name: str, value: str | None, default: bool) -> bool:
    """A true/false variable; anything but the usual spellings is refused, since these switch on safety rules."""
    value = (value or "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} is {value!r}; it must be true or false.")


class Config:
    """Settings read from an environment mapping (``os.environ`` by default) when instantiated."""

    # Flask and extensions settings that do not vary between deployments.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds a token
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Flask-Login's "keep me logged in" cookie is a login too: guarded like the session cookie.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    RATELIMIT_HEADERS_ENABLED = True
    RQ_QUEUE = "playground"
    JOB_TIMEOUT = 600  # seconds a scoring job may run before it is killed and reaped
    REAPER_INTERVAL = 30  # seconds between reaper passes, in workers and in embedded mode
    REAPER_GRACE = 30  # seconds a submission may wait for its job before the reaper looks at it
    HEARTBEAT_TTL = 30  # seconds a worker's heartbeat outlives its last beat: a dead worker's job is retried then
    JOB_STOP_GRACE = 10  # seconds an in-process job past its timeout gets to stop before its thread is abandoned
    UPLOAD_MULTIPART_THRESHOLD = 100 * 1024 * 1024  # direct uploads larger than this go up in parallel parts
    UPLOAD_PART_SIZE = 16 * 1024 * 1024  # the size of those parts (raised so that a file has at most 1,000)
    MAX_PENDING_UPLOADS = 3  # unconfirmed direct uploads a participant may have at once
    RATELIMIT_KEY_PREFIX = "playground"
    RATELIMIT_SWALLOW_ERRORS = True  # a Redis outage must not take the API down with it
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.APP_ENV = (env.get("APP_ENV") or env.get("FLASK_ENV") or "development").lower()
        self.PRODUCTION = self.APP_ENV == "production"
        secret = env.get("SECRET_KEY")
        if not secret and self.PRODUCTION:
            raise ConfigError(
                "SECRET_KEY is not set. In production it must be: sessions, CSRF tokens and "
                "password-reset links are signed with it, and a random key per start would log "
                "everyone out at each restart and differ between web replicas. "
                "Set SECRET_KEY to a long random string shared by all web processes."
            )
        self.SECRET_KEY = secret or secrets.token_hex(32)
        self.SESSION_COOKIE_SECURE = self.REMEMBER_COOKIE_SECURE = self.PRODUCTION
        self.SQLALCHEMY_DATABASE_URI = _database_url(env.get("DATABASE_URL"))
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.STORAGE_URL = env.get("STORAGE_URL") or f"file://{INSTANCE_DIR / 'storage'}"
        self.S3_ENDPOINT_URL = env.get("S3_ENDPOINT_URL") or None
        self.TRUSTED_PROXIES = int(env.get("TRUSTED_PROXIES") or 0)  # reverse proxies whose X-Forwarded-* count
        self.S3_PUBLIC_ENDPOINT_URL = env.get("S3_PUBLIC_ENDPOINT_URL") or None  # in presigned URLs, if it differs
        self.MAX_UPLOAD_MB = int(env.get("MAX_UPLOAD_MB") or 200)
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_MB * 1024 * 1024
        # The most a file may hold once decompressed (a gzip submission, a bundle's member): five uploads.
        self.MAX_DECOMPRESSED_BYTES = 5 * self.MAX_CONTENT_LENGTH
        self.MAX_BUNDLE_BYTES = 10 * self.MAX_CONTENT_LENGTH  # every file of a competition bundle, unpacked
        self.RQ_QUEUE = env.get("RQ_QUEUE") or self.RQ_QUEUE
        self.JOB_TIMEOUT = int(env.get("JOB_TIMEOUT") or self.JOB_TIMEOUT)
        self.REAPER_INTERVAL = int(env.get("REAPER_INTERVAL") or self.REAPER_INTERVAL)
        self.HEARTBEAT_TTL = max(1, int(env.get("HEARTBEAT_TTL") or self.HEARTBEAT_TTL))
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.API_RATE_LIMIT = env.get("API_RATE_LIMIT") or "300 per minute"  # per token, or per address without one
        self.UPLOAD_EXPIRY = int(env.get("UPLOAD_EXPIRY") or 3600)  # seconds a direct upload may stay unconfirmed
        if self.REDIS_URL:
            self.CACHE_TYPE = "RedisCache"
            self.CACHE_REDIS_URL = self.REDIS_URL
        else:
            self.CACHE_TYPE = "SimpleCache"
        self.CACHE_DEFAULT_TIMEOUT = 300
        # A board a reader caches again between an invalidation's delete and its check is fresh, not a failure:
        # without this, Redis' delete_many raised then, failing the scoring job that had just committed.
        self.CACHE_IGNORE_ERRORS = True
        # The OMS aggregation API, for `flask runs import --from-oms` (unset: runs come from files only).
        self.OMS_API_URL = env.get("OMS_API_URL") or None
        self.OMS_TOKEN = env.get("OMS_TOKEN") or None  # sent as a bearer token
        self.OMS_VERIFY_TLS = (env.get("OMS_VERIFY_TLS") or "true").lower() not in ("0", "false", "no", "off")
        self.OMS_PAGE_LIMIT = int(env.get("OMS_PAGE_LIMIT") or 1000)
        self.OMS_TIMEOUT = float(env.get("OMS_TIMEOUT") or 30)
        # The Run Registry API, for `flask runs import --from-rr` (empty: not configured).
        self.RR_API_URL = env.get("RR_API_URL") or ""
        self.RR_TOKEN = env.get("RR_TOKEN") or None  # sent as a bearer token
        self.RR_VERIFY_TLS = (env.get("RR_VERIFY_TLS") or "true").lower() not in ("0", "false", "no", "off")
        self.RR_TIMEOUT = float(env.get("RR_TIMEOUT") or 60)
        # Operations: who may read /metrics (unset: anyone who reaches it), and how log lines are written.
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        self.LOG_FORMAT = (env.get("LOG_FORMAT") or "text").lower()
        if self.LOG_FORMAT not in LOG_FORMATS:
            raise ConfigError(f"LOG_FORMAT is {self.LOG_FORMAT!r}; it must be one of: {', '.join(LOG_FORMATS)}.")
        # `flask tasks push-rr` writes to RR only when this is set to 1 (or true, yes, on); a dry run needs nothing.
        self.RR_WRITE = (env.get("RR_WRITE") or "").strip().lower() in ("1", "true", "yes", "on")
        # Single sign-on through an OpenID Connect provider; app.auth.oidc checks these at start-up.
        self.OIDC_ISSUER = (env.get("OIDC_ISSUER") or "").strip() or None  # unset: no single sign-on
        self.OIDC_CLIENT_ID = env.get("OIDC_CLIENT_ID") or None
        self.OIDC_CLIENT_SECRET = env.get("OIDC_CLIENT_SECRET") or None
        self.OIDC_GROUPS_CLAIM = (env.get("OIDC_GROUPS_CLAIM") or "").strip() or "groups"
        self.OIDC_ROLE_MAP = env.get("OIDC_ROLE_MAP") or ""  # "group=role,group=role"
        # An http:// issuer, for tests with a provider on loopback; refused in production.
        self.OIDC_ALLOW_HTTP = _switch("OIDC_ALLOW_HTTP", env.get("OIDC_ALLOW_HTTP"), False)
        self.PASSWORD_LOGIN = _switch("PASSWORD_LOGIN", env.get("PASSWORD_LOGIN"), True)
