"""A stand-in OpenID Connect provider on a loopback port: discovery, authorize, token, userinfo and JWKS.

``/authorize`` logs in whoever ``user`` describes, without a page of its own, and sends the browser back to the
client's redirect URI with a code and the state. ``/token`` checks what a real provider checks (the client's
secret, the code once only, the redirect URI, the PKCE verifier against the S256 challenge) and answers an
access token and an RS256 ID token carrying the nonce of the authorization request, the user's claims and,
unless ``groups_in_id_token`` is false, their groups (``/userinfo`` always has them). ``tamper`` spoils the
next ID tokens: claims to replace (``nonce``, ``aud``, ``exp``...) and ``key``, another key to sign with.
Every token request is recorded in ``token_requests``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.wrappers import Request, Response

from tests import services

CLIENT_ID = "dqm-playground"
CLIENT_SECRET = "provider-test-secret"
KEY_ID = "provider-key-1"
ID_TOKEN_LIFETIME = 300  # seconds


def signing_key(kid: str = KEY_ID) -> RSAKey:
    """A new RSA key pair for RS256, with this key id."""
    return RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)


class OidcProvider:
    """The provider, served in a thread from construction until ``stop``."""

    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = signing_key()
        self.user: dict[str, Any] = {
            "sub": "f3c2a9e0-5b1d-4a77-9d0e-2c1b7e8a9f10",
            "preferred_username": "lea",
            "email": "lea@example.org",
            "groups": [],
        }
        self.groups_in_id_token = True
        self.tamper: dict[str, Any] = {}
        self.token_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, Any]] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.url, self.stop = services.serve(self.wsgi)
        self.issuer = self.url

    @Request.application
    def wsgi(self, request: Request) -> Response:
        """Answer one request."""
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/authorize": self.authorize,
            "/token": self.token,
            "/userinfo": self.userinfo,
            "/jwks": self.jwks,
        }
        answer = routes.get(request.path)
        return answer(request) if answer else _json({"error": "not_found"}, 404)

    def discovery(self, request: Request) -> Response:
        """The provider's metadata, as OpenID Connect Discovery 1.0 describes it."""
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "userinfo_endpoint": f"{self.url}/userinfo",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "profile", "email"],
            }
        )

    def authorize(self, request: Request) -> Response:
        """Log the user in at once and send the browser back with a code."""
        args = request.args
        problems = [
            problem
            for problem, wrong in (
                ("response_type must be code", args.get("response_type") != "code"),
                ("unknown client_id", args.get("client_id") != self.client_id),
                ("no redirect_uri", not args.get("redirect_uri")),
                ("scope must include openid", "openid" not in (args.get("scope") or "").split()),
                ("no state", not args.get("state")),
                ("no nonce", not args.get("nonce")),
                ("PKCE with S256 is required", args.get("code_challenge_method") != "S256"),
                ("no code_challenge", not args.get("code_challenge")),
            )
            if wrong
        ]
        if problems:
            return _json({"error": "invalid_request", "error_description": "; ".join(problems)}, 400)
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = {
                "redirect_uri": args["redirect_uri"],
                "nonce": args["nonce"],
                "challenge": args["code_challenge"],
                "user": dict(self.user),
            }
        query = urlencode({"code": code, "state": args["state"]})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def token(self, request: Request) -> Response:
        """Exchange a code for an access token and a signed ID token."""
        form = request.form.to_dict()
        self.token_requests.append(form)
        if not self._client_authenticated(request):
            return _json({"error": "invalid_client"}, 401)
        with self._lock:
            grant = self._codes.pop(form.get("code") or "", None)  # a code works once
        verifier = form.get("code_verifier") or ""
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or form.get("redirect_uri") != grant["redirect_uri"]
            or challenge != grant["challenge"]
        ):
            return _json({"error": "invalid_grant"}, 400)
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access_tokens[access_token] = grant["user"]
        return _json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ID_TOKEN_LIFETIME,
                "id_token": self._id_token(grant["user"], grant["nonce"]),
            }
        )

    def _client_authenticated(self, request: Request) -> bool:
        scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        else:
            client_id, secret = request.form.get("client_id", ""), request.form.get("client_secret", "")
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    def _id_token(self, user: dict[str, Any], nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user["sub"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
            "nonce": nonce,
            "preferred_username": user.get("preferred_username"),
            "email": user.get("email"),
            "email_verified": True,
        }
        if self.groups_in_id_token:
            claims["groups"] = user.get("groups", [])
        spoiled = dict(self.tamper)
        key = spoiled.pop("key", self.key)
        claims.update(spoiled)
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def userinfo(self, request: Request) -> Response:
        """The user's claims, for the holder of an access token."""
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        user = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if user is None:
            return _json({"error": "invalid_token"}, 401)
        return _json(user)

    def jwks(self, request: Request) -> Response:
        """The public half of the signing key."""
        return _json(KeySet([self.key]).as_dict(private=False))


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
