"""View guards by role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from app.extensions import login_manager
from app.models import Role


def roles_required(*roles: Role) -> Callable:
    """Let a view through for users holding any of the roles (admins always); others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403, description="Your account does not have the role this page needs.")
            return view(*args, **kwargs)

        return guarded

    return decorator
