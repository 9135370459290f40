"""Flask extensions, created unbound; ``create_app`` binds them to an application."""

from typing import TYPE_CHECKING, ClassVar

from flask import current_app, request
from flask_caching import Cache
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model maps one table (SQLAlchemy only promises a FromClause)


db = SQLAlchemy(model_class=Base)

# The base every model subclasses. At run time it is ``db.Model``, which Flask-SQLAlchemy builds from ``Base``;
# the type checker cannot follow that, so it is told the class it is built from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()


def client_address() -> str:
    """The client's address (its proxies' word only behind TRUSTED_PROXIES): whom page limits such as login's count."""
    return get_remote_address()


def rate_limit_key() -> str:
    """Whom the API budget counts: the holder of a valid API token, else the client's address.

    Only a valid token picks a bucket of its own: a made-up or revoked one counts against the address, so that
    sending a fresh Authorization header never buys a fresh budget.
    """
    from app.services.accounts import api_token_hash  # services import this module

    token_hash = api_token_hash(request.headers.get("Authorization"))
    return f"token:{token_hash[:32]}" if token_hash is not None else client_address()


def _api_rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT") or "300 per minute"


# One budget per token (or address) across every /api/ route; pages keep their own limits. Counts live
# in RATELIMIT_STORAGE_URI: Redis when REDIS_URL is set, shared by every web process; memory when embedded.
API_LIMIT = ApplicationLimit(
    _api_rate_limit,
    key_function=rate_limit_key,
    exempt_when=lambda: not request.path.startswith("/api/"),
    error_message=lambda: (
        f"Too many requests: the API allows {_api_rate_limit()} per token (or per address without one); "
        "try again after the seconds in Retry-After."
    ),
)
limiter = Limiter(key_func=client_address, application_limits=[API_LIMIT])
cache = Cache()
