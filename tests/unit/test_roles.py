"""Roles: the guard on views, admin implying every role, and the admin page that grants roles."""

import pytest

from app.extensions import db
from app.models import Role, User
from tests.helpers import PASSWORD, make_user


def test_admin_holds_every_role(app):
    with app.app_context():
        admin = make_user("root", Role.ADMIN)
        shifter = make_user("sam", Role.SHIFTER)
        assert admin.has_role(Role.SHIFT_LEADER) and admin.has_role(Role.ORGANISER)
        assert shifter.has_role(Role.SHIFTER) and not shifter.has_role(Role.SHIFT_LEADER)


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER])
def test_user_without_the_role_gets_403(app, client, auth, role):
    with app.app_context():
        make_user("someone", role)
    auth.login("someone", PASSWORD)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "does not have the role" in response.get_data(as_text=True)


def test_admin_grants_roles_through_the_page(app, client, auth):
    with app.app_context():
        make_user("root", Role.ADMIN)
        target = make_user("sam", Role.RESEARCHER).id
    auth.login("root", PASSWORD)
    assert "sam" in client.get("/admin/users").get_data(as_text=True)
    token = auth.csrf_token(f"/admin/users/{target}")
    response = client.post(
        f"/admin/users/{target}",
        data={"roles": ["shifter", "shift_leader"], "active": "y", "csrf_token": token},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, target).roles == {Role.SHIFTER, Role.SHIFT_LEADER}


def test_admin_cannot_remove_their_own_admin_role(app, client, auth):
    with app.app_context():
        root = make_user("root", Role.ADMIN).id
    auth.login("root", PASSWORD)
    token = auth.csrf_token(f"/admin/users/{root}")
    response = client.post(f"/admin/users/{root}", data={"roles": ["researcher"], "active": "y", "csrf_token": token})
    assert response.status_code == 400
    with app.app_context():
        assert Role.ADMIN in db.session.get(User, root).roles


def test_navigation_shows_admin_entries_to_admins_only(app, client, auth):
    with app.app_context():
        make_user("root", Role.ADMIN)
        make_user("rita")
    auth.login("rita", PASSWORD)
    assert 'href="/admin/users"' not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("root", PASSWORD)
    assert 'href="/admin/users"' in client.get("/").get_data(as_text=True)
