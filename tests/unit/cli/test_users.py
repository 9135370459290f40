"""`flask users create` and `flask users token`, as CONTRACT.md describes them."""

from app.models import Role
from app.services import accounts
from tests.helpers import bearer, make_user


def test_users_create_with_roles_and_password(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "lea",
            "--role",
            "shift_leader",
            "--role",
            "shifter",
            "--password",
            "pw-long-enough",
            "--email",
            "lea@example.org",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = accounts.find_user("lea")
        assert user.roles == {Role.SHIFT_LEADER, Role.SHIFTER}
        assert user.check_password("pw-long-enough") and user.email == "lea@example.org"


def test_users_create_prompts_for_the_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "sam", "--role", "shifter"], input="pw-long-enough\npw-long-enough\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert accounts.find_user("sam").check_password("pw-long-enough")


def test_users_create_refuses_a_taken_name_and_an_unknown_role(app, runner):
    assert runner.invoke(args=["users", "create", "sam", "--password", "pw-long-enough"]).exit_code == 0
    taken = runner.invoke(args=["users", "create", "Sam", "--password", "pw-long-enough"])
    assert taken.exit_code != 0 and "already taken" in taken.output
    unknown = runner.invoke(args=["users", "create", "x1", "--role", "wizard", "--password", "pw-long-enough"])
    assert unknown.exit_code != 0 and "wizard" in unknown.output


def test_users_create_applies_the_password_and_email_rules(app, runner):
    """The shell follows the rules of the registration form: one rule for every way in."""
    refusals = {
        ("--password", "password"): "among the most common ones",
        ("--password", "lea-leader"): "must not be the username",
        ("--password", "lea@example.org", "--email", "lea@example.org"): "must not be the e-mail address",
        ("--password", "pw-long-enough", "--email", "lea@demo.invalid"): "This e-mail address is not valid",
    }
    for options, message in refusals.items():
        result = runner.invoke(args=["users", "create", "lea-leader", "--role", "shift_leader", *options])
        assert result.exit_code != 0 and message in result.output, options
    with app.app_context():
        assert accounts.find_user("lea-leader") is None


def test_users_token_prints_a_working_token_last(app, runner, client):
    runner.invoke(args=["users", "create", "rita", "--role", "researcher", "--password", "pw-long-enough"])
    result = runner.invoke(args=["users", "token", "rita"])
    assert result.exit_code == 0
    secret = result.stdout.strip().splitlines()[-1]
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["username"] == "rita"


def test_users_token_for_unknown_user_fails(runner):
    result = runner.invoke(args=["users", "token", "ghost"])
    assert result.exit_code != 0 and "no user named 'ghost'" in result.output


def test_demo_if_empty_leaves_a_used_database_alone_and_prints_the_logins(app, runner):
    """`make run` seeds only an empty database; the whole demo is tested in tests/integration/demo/test_seed.py."""
    with app.app_context():
        make_user("someone")
    skipped = runner.invoke(args=["demo", "--if-empty"])
    assert skipped.exit_code == 0 and "not empty" in skipped.output
    assert "rita   / playground-demo: researcher" in skipped.output
    with app.app_context():
        assert [user.username for user in accounts.all_users()] == ["someone"]
