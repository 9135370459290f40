"""SQLAlchemy models, one module per area; importing this package registers them all."""

from app.models.accounts import ApiToken, Role, User, UserRole
from app.models.system import HealthCheck

__all__ = ["ApiToken", "HealthCheck", "Role", "User", "UserRole"]
