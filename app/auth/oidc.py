"""Single sign-on through an OpenID Connect provider, with Authlib.

The authorization code flow with PKCE (S256), state and nonce; the provider is found through
``{OIDC_ISSUER}/.well-known/openid-configuration``. Authlib verifies the ID token: its signature against the
provider's JWKS (fetched again when a key id is new), and its issuer, audience, expiry and nonce. Whatever
fails becomes a ``Refused`` with a message for the login page, and nobody is logged in.

``init_app`` checks the settings when the application is created (a ``ConfigError`` stops it) and keeps the
client in ``app.extensions["oidc"]``; without OIDC_ISSUER there is none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.flask_client import OAuth, OAuthError
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Flask, current_app
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from app.extensions import cache
from app.models import Role
from app.services import sso
from app.services.errors import Refused
from config import ConfigError

logger = logging.getLogger(__name__)

EXTENSION = "oidc"
SCOPES = "openid profile email"
LEEWAY = 60  # seconds of clock difference with the provider tolerated on the ID token's times
TIMEOUT = 10  # seconds each call to the provider may take
LOGIN_WINDOW = 900  # seconds between leaving for the provider and coming back before the login is forgotten
RETRY = "Nobody was logged in; log in again, and tell the platform's admins if this goes on."
CLAIM_PROBLEMS = {
    "aud": "was issued for another application",
    "azp": "was issued for another application",
    "iss": "was issued by another provider",
    "nonce": "does not belong to this login",
    "sub": "does not say who you are",
}
# What a provider's answer may raise beyond Authlib's and joserfc's own errors: the network, the cache, and
# documents that are not what OpenID Connect says (a missing key, a wrong type).
UNREACHABLE = (requests.RequestException, RedisError)
MALFORMED = (ValueError, KeyError, TypeError, RuntimeError)


@dataclass(frozen=True)
class SingleSignOn:
    """The provider's client and what the platform makes of its answers."""

    client: FlaskOAuth2App
    issuer: str
    client_id: str
    groups_claim: str
    role_map: dict[str, frozenset[Role]]


class _OneUseStates:
    """Authlib's store of logins on their way through the provider, in the app's cache (Redis when configured,
    so every web process sees them). A state is handed out once: the delete that removes it is the one that
    may use it, so a replayed callback finds nothing, even with a copy of the cookie from before the login."""

    def get(self, key: str) -> Any:
        value = cache.get(key)
        return value if value is not None and cache.delete(key) else None

    def set(self, key: str, value: Any, expires: int) -> None:
        cache.set(key, value, timeout=expires)

    def delete(self, key: str) -> None:
        cache.delete(key)


def init_app(app: Flask) -> None:
    """Check the single sign-on settings and keep the provider's client; a ConfigError says what is wrong."""
    config = app.config
    try:
        role_map = sso.parse_role_map(config.get("OIDC_ROLE_MAP") or "")
    except ValueError as error:
        raise ConfigError(f"OIDC_ROLE_MAP is not valid: {error}. Write it as group=role,group=role.") from None
    issuer = config.get("OIDC_ISSUER")
    if not issuer:
        if not config.get("PASSWORD_LOGIN", True):
            raise ConfigError("PASSWORD_LOGIN is false and OIDC_ISSUER is unset: nobody could log in.")
        return
    _check_issuer(issuer, allow_http=bool(config.get("OIDC_ALLOW_HTTP")), production=bool(config.get("PRODUCTION")))
    missing = [name for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not config.get(name)]
    if missing:
        raise ConfigError(f"OIDC_ISSUER is set but {' and '.join(missing)} is not: both come from the provider.")
    oauth = OAuth(app, cache=_OneUseStates())
    client = oauth.register(
        "sso",
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "default_timeout": TIMEOUT},
    )
    client.framework.expires_in = LOGIN_WINDOW
    app.extensions[EXTENSION] = SingleSignOn(
        client=client,
        issuer=issuer,
        client_id=config["OIDC_CLIENT_ID"],
        groups_claim=config.get("OIDC_GROUPS_CLAIM") or "groups",
        role_map=role_map,
    )


def _check_issuer(issuer: str, *, allow_http: bool, production: bool) -> None:
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError(f"OIDC_ISSUER is {issuer!r}; it must be the provider's https:// address.")
    if parts.scheme == "http" and not allow_http:
        raise ConfigError(
            f"OIDC_ISSUER is {issuer!r}: the provider must be reached over https (OIDC_ALLOW_HTTP=true is for tests)."
        )
    if parts.scheme == "http" and production:
        raise ConfigError("OIDC_ALLOW_HTTP is for tests: in production the provider must be reached over https.")


def enabled() -> bool:
    """Whether single sign-on is configured."""
    return EXTENSION in current_app.extensions


def _sso() -> SingleSignOn:
    return current_app.extensions[EXTENSION]


def role_map() -> dict[str, frozenset[Role]]:
    """The roles each of the provider's groups grants (OIDC_ROLE_MAP)."""
    return _sso().role_map


def start(redirect_uri: str) -> Response:
    """The redirect to the provider's login, with a new state, nonce and PKCE challenge kept for the callback."""
    try:
        return _sso().client.authorize_redirect(redirect_uri)
    except (*UNREACHABLE, *MALFORMED, OAuthError):
        logger.warning("single sign-on could not start", exc_info=True)
        raise Refused("The sign-in service cannot be reached right now; try again in a moment.", 503) from None


def finish() -> sso.Identity:
    """The identity that the provider's answer on this callback vouches for, verified; raises Refused."""
    settings = _sso()
    try:
        issuer = _provider_issuer(settings)
        options = {"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": settings.client_id}}
        token = settings.client.authorize_access_token(claims_options=options, leeway=LEEWAY)
        claims = token.get("userinfo")
        if not claims:
            raise Refused(f"Single sign-on failed: the sign-in service sent no identity token. {RETRY}")
        groups = claims.get(settings.groups_claim)
        if groups is None:
            groups = _userinfo_groups(settings, token, claims["sub"])
    except Refused:
        raise
    except MismatchingStateError:
        raise Refused(
            "Single sign-on failed: this answer of the sign-in service does not belong to a login started in this "
            f"browser, or was already used. {RETRY}"
        ) from None
    except OAuthError as error:
        logger.warning("single sign-on refused by the provider: %s %s", error.error, error.description)
        said = f"{error.error}: {error.description}" if error.description else str(error.error)
        raise Refused(f"Single sign-on failed: the sign-in service answered {said}. {RETRY}") from None
    except JoseError as error:
        logger.warning("single sign-on: ID token refused (%s)", error)
        raise Refused(f"Single sign-on failed: the identity token {_token_problem(error)}. {RETRY}") from None
    except UNREACHABLE:
        logger.warning("single sign-on: the provider could not be reached", exc_info=True)
        raise Refused(f"Single sign-on failed: the sign-in service did not answer. {RETRY}", 503) from None
    except MALFORMED:
        logger.warning("single sign-on: the provider's answer could not be read", exc_info=True)
        raise Refused(f"Single sign-on failed: the sign-in service's answer could not be read. {RETRY}") from None
    return sso.Identity(
        sub=claims["sub"],
        preferred_username=claims.get("preferred_username"),
        email=claims.get("email") if claims.get("email_verified", True) else None,
        groups=sso.groups_in(groups),
    )


def _provider_issuer(settings: SingleSignOn) -> str:
    """The issuer the discovery document names, which must be OIDC_ISSUER (give or take a final slash)."""
    issuer = settings.client.load_server_metadata().get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != settings.issuer.rstrip("/"):
        logger.warning("single sign-on: the provider calls itself %r, not OIDC_ISSUER %r", issuer, settings.issuer)
        raise Refused(f"Single sign-on failed: the sign-in service is not the one configured. {RETRY}")
    return issuer


def _userinfo_groups(settings: SingleSignOn, token: dict, sub: str) -> object:
    """The groups claim of the provider's userinfo, for providers that keep it out of the ID token."""
    if not settings.client.load_server_metadata().get("userinfo_endpoint"):
        return None
    info = settings.client.userinfo(token=token)
    if info.get("sub") != sub:  # OpenID Connect Core 5.3.2: another person's userinfo must not be used
        raise Refused(f"Single sign-on failed: the sign-in service described someone else. {RETRY}")
    return info.get(settings.groups_claim)


def _token_problem(error: JoseError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "has expired"
    if isinstance(error, (BadSignatureError, InvalidKeyIdError)):
        return "is not signed with the sign-in service's keys"
    if isinstance(error, ClaimError):
        return CLAIM_PROBLEMS.get(error.claim, f"has an invalid {error.claim!r} claim")
    return "could not be verified"
