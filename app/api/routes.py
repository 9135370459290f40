"""API routes about the caller."""

from flask import g, jsonify

from app.api import bp
from app.api.auth import api_user, token_required
from app.extensions import db


@bp.get("/me")
@token_required
def me():
    """The authenticated user: name and roles."""
    user = api_user()
    return jsonify(username=user.username, email=user.email, roles=sorted(role.value for role in user.roles))


@bp.delete("/token")
@token_required
def revoke_own_token():
    """Revoke the token this call was made with (a client's logout)."""
    g.api_token.revoke()
    db.session.commit()
    return "", 204
