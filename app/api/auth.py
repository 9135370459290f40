"""Bearer-token authentication of API calls."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request

from app.api import bp
from app.errors import api_error
from app.extensions import db
from app.models import ApiToken, Role, User


@bp.before_request
def authenticate():
    """Identify the caller by token; a token that is present but invalid is always 401."""
    g.api_user = g.api_token = None
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return api_error(401, "The Authorization header must read 'Bearer <token>'.")
    token = ApiToken.authenticate(secret.strip())
    if token is None:
        return api_error(401, "The API token is invalid or was revoked.")
    token.touch()
    db.session.commit()
    g.api_token, g.api_user = token, token.user
    return None


def api_user_if_any() -> User | None:
    """The user the current API call authenticated as, if any."""
    return g.get("api_user")


def api_user() -> User:
    """The user a call that ``token_required`` (or ``roles_required``) let through authenticated as."""
    user = api_user_if_any()
    if user is None:
        raise RuntimeError("api_user() serves views behind token_required; use api_user_if_any() elsewhere")
    return user


def token_required(view: Callable) -> Callable:
    """Refuse the call with 401 unless it carries a valid token."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if api_user_if_any() is None:
            return api_error(401, "This call needs an API token: send 'Authorization: Bearer <token>'.")
        return view(*args, **kwargs)

    return guarded


def roles_required(*roles: Role) -> Callable:
    """Refuse the call with 401 without a token and 403 without one of the roles."""

    def decorator(view: Callable) -> Callable:
        @token_required
        @wraps(view)
        def guarded(*args, **kwargs):
            if not api_user().has_role(*roles):
                names = " or ".join(role.value for role in roles)
                return api_error(403, f"This call needs the role {names}.")
            return view(*args, **kwargs)

        return guarded

    return decorator
