"""Single sign-on accounts: a provider's users found by their `sub`, accounts created at their first login, and
roles granted from the provider's groups (OIDC_ROLE_MAP) and taken away when the groups no longer grant them.

The web side (app.auth.oidc) has the provider's answer verified and hands over the identity it vouches for;
nothing here talks to the provider. Roles granted by hand are never touched here.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEntry, Role, User, UserRole
from app.models.types import utcnow
from app.services import accounts
from app.services.errors import Refused

logger = logging.getLogger(__name__)

RoleMap = Mapping[str, frozenset[Role]]
USERNAME_LENGTH = 64
NEW_ACCOUNT_ROLES = frozenset({Role.RESEARCHER})  # as registration gives: granted by hand, kept


@dataclass(frozen=True)
class Identity:
    """What the provider vouches for about the person logging in."""

    sub: str
    preferred_username: str | None = None
    email: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)


def parse_role_map(text: str) -> dict[str, frozenset[Role]]:
    """The groups of an OIDC_ROLE_MAP (``group=role,group=role``) with the roles each grants.

    A group may appear more than once to grant several roles; empty entries (a trailing comma) are ignored.
    Raises ValueError naming the first entry that is not ``group=role`` with a role of the platform.
    """
    granted: dict[str, set[Role]] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        group, equals, role = (part.strip() for part in entry.partition("="))
        if not equals or not group or not role:
            raise ValueError(f"the entry {entry!r} is not of the form group=role")
        try:
            granted.setdefault(group, set()).add(Role(role))
        except ValueError:
            names = ", ".join(r.value for r in Role)
            raise ValueError(f"the entry {entry!r} names no role of the platform (roles: {names})") from None
    return {group: frozenset(roles) for group, roles in granted.items()}


def groups_in(value: object) -> frozenset[str]:
    """The group names a groups claim holds: a list of names, or one name; anything else holds none."""
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def roles_for(groups: Iterable[str], role_map: RoleMap) -> set[Role]:
    """The roles the map grants for these groups."""
    return {role for group in groups for role in role_map.get(group, ())}


def _fitting(name: str) -> str:
    """The name cut to the username rules: ASCII letters, digits, '_', '.', '-', starting with a letter or digit."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9_.-]+", "-", plain)
    return re.sub(r"^[^A-Za-z0-9]+", "", plain)[:USERNAME_LENGTH].rstrip("-_.")


def unique_username(preferred: str | None, email: str | None, taken: Callable[[str], bool]) -> str:
    """A username for a new account from the provider's preferred_username (else the e-mail's local part), made
    to fit the username rules and, when ``taken`` says it is, unique with a numbered suffix (``name-2``...)."""
    base = _fitting(preferred or "") or _fitting((email or "").partition("@")[0]) or "user"
    if len(base) < 2:
        base = f"user-{base}"
    if not taken(base):
        return base
    for number in itertools.count(2):
        suffix = f"-{number}" if number < 10_000 else f"-{secrets.token_hex(4)}"
        candidate = base[: USERNAME_LENGTH - len(suffix)] + suffix
        if not taken(candidate):
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover  (itertools.count never ends)


def find_by_sub(sub: str) -> User | None:
    """The account of the provider's user with this `sub`, if they logged in before."""
    return db.session.execute(db.select(User).where(User.oidc_sub == sub)).scalar_one_or_none()


def sign_in(identity: Identity, role_map: RoleMap) -> User:
    """The account of the person the provider vouches for, created at their first login, with the roles their
    groups grant added and the ones no group grants any more taken away (committed, audited).

    Raises Refused, changing nothing, for an identity without `sub` and for a deactivated account.
    """
    if not identity.sub:
        raise Refused("The sign-in service did not say who you are (no `sub` claim); nobody was logged in.")
    for attempt in range(3):
        user = find_by_sub(identity.sub) or _create(identity)
        if not user.active:
            db.session.rollback()
            raise Refused("This account is deactivated: ask the platform's admins to reactivate it.", 403)
        sync_group_roles(user, identity.groups, role_map)
        user.last_login_at = utcnow()
        try:
            db.session.commit()
            return user
        except IntegrityError:
            # A first login of the same person in another tab, or a registration taking the username, won the
            # race: the next attempt finds that account, or picks another name.
            db.session.rollback()
            logger.info("single sign-on of sub %r raced another write (attempt %d)", identity.sub, attempt + 1)
    raise Refused("Your account could not be set up right now; please log in again.", 409)


def _create(identity: Identity) -> User:
    """A new account for the identity: no password, the default roles, the e-mail when no one else has it."""
    username = unique_username(
        identity.preferred_username, identity.email, lambda name: accounts.find_user(name) is not None
    )
    try:
        email = accounts.normalise_email(identity.email)
    except Refused:
        email = None
    if email and db.session.execute(db.select(User.id).where(User.email == email)).first():
        # Never linked by e-mail to an existing account: only the provider's `sub` identifies its users.
        email = None
    user = User(username=username, email=email, password_hash="", oidc_sub=identity.sub)
    user.set_roles(set(NEW_ACCOUNT_ROLES))
    db.session.add(user)
    db.session.flush()
    _audit(user, "sso_account_create", None, {"username": username, "email": email, "sub": identity.sub})
    logger.info("account %s created at its first single sign-on", username)
    return user


def sync_group_roles(user: User, groups: frozenset[str], role_map: RoleMap) -> None:
    """Grant the roles the user's groups map to and take away those granted from groups that no group maps to
    now; roles granted by hand stay. Audited when anything changed (the caller commits)."""
    wanted = roles_for(groups, role_map)
    before = _role_state(user)
    user.role_rows = [row for row in user.role_rows if not row.from_group or row.role in wanted]
    held = user.roles
    for role in sorted(wanted - held):
        user.role_rows.append(UserRole(role=role, from_group=True))
    after = _role_state(user)
    if after != before:
        matched = sorted(group for group in groups if group in role_map)
        _audit(user, "sso_roles", before, after | {"groups": matched})


def _role_state(user: User) -> dict[str, list[str]]:
    return {
        "roles": sorted(role.value for role in user.roles),
        "from_groups": sorted(role.value for role in user.group_roles),
    }


def _audit(user: User, action: str, before: dict | None, after: dict | None) -> None:
    # The change came with the user's own login, through the provider's word: recorded as theirs.
    db.session.add(
        AuditEntry(user_id=user.id, action=action, entity="user", entity_id=user.id, before=before, after=after)
    )
