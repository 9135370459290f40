"""Account views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME
from sqlalchemy.exc import IntegrityError

from app.auth import bp, oidc
from app.auth.forms import ChangePasswordForm, EmptyForm, LoginForm, NewTokenForm, RegisterForm
from app.extensions import db, limiter, login_manager
from app.models import ApiToken, User
from app.models.types import utcnow
from app.services import accounts, sso
from app.services.errors import Refused

login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The logged-in user of a session or remember cookie, unless its session version is stale."""
    return accounts.user_for_session(session_id)


def _login_rate_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT") or "10 per minute"


def _register_rate_limit() -> str:
    return current_app.config.get("REGISTER_RATE_LIMIT") or "20 per hour"


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


def _login_page(form: LoginForm, status: int = 200):
    """The login page: the password form where PASSWORD_LOGIN allows it, and "Log in with SSO" when configured."""
    return (
        render_template(
            "auth/login.html",
            form=form,
            password_login=current_app.config.get("PASSWORD_LOGIN", True),
            sso=oidc.enabled(),
            next=request.args.get("next"),
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login():
    """Log in with username and password, or choose single sign-on."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if not current_app.config.get("PASSWORD_LOGIN", True):
        if request.method == "POST":
            flash("Logging in with a password is turned off here: log in with SSO.", "danger")
            return _login_page(form, 403)
        return _login_page(form)
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        # One message for an unknown name and a wrong password: no hint which names exist.
        if user is None:
            flash("Invalid username or password.", "danger")
            return _login_page(form)
        login_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return _login_page(form)


@bp.route("/login/oidc")
def oidc_login():
    """Leave for the single sign-on provider's login; ``next`` is where to come back to afterwards."""
    if not oidc.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    session["oidc_next"] = _safe_next(request.args.get("next"))
    try:
        return oidc.start(url_for("auth.oidc_callback", _external=True))
    except Refused as refused:
        flash(refused.message, "danger")
        return _login_page(LoginForm(), refused.status)


@bp.route("/login/oidc/callback")
def oidc_callback():
    """Come back from the provider: its answer verified, the account found by `sub` (or created) and its roles
    from groups brought up to date, then logged in; on any failure the login page says why."""
    if not oidc.enabled():
        abort(404)
    target = session.pop("oidc_next", None) or url_for("main.index")
    try:
        user = sso.sign_in(oidc.finish(), oidc.role_map())
    except Refused as refused:
        flash(refused.message, "danger")
        return _login_page(LoginForm(), refused.status)
    login_user(user)
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (a POST, so that no link or image can log someone out)."""
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            # Ends copies of the cookies too (another browser's, a stolen one), not only this browser's.
            accounts.end_sessions(current_user._get_current_object(), "logout")
            db.session.commit()
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_rate_limit, methods=["POST"])
def register():
    """Create a researcher account."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if not current_app.config.get("PASSWORD_LOGIN", True):
        flash("Accounts are created at their first login with SSO.", "info")
        return redirect(url_for("auth.login"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.username.data, form.password.data, email=form.email.data)
            db.session.commit()
        except Refused as refused:
            db.session.rollback()
            getattr(form, refused.field or "username").errors.append(refused.message)
            return render_template("auth/register.html", form=form), 400
        except IntegrityError:
            # Two registrations raced for the same name; the schema kept one.
            db.session.rollback()
            form.username.errors.append("This username or e-mail address is already taken.")
            return render_template("auth/register.html", form=form), 400
        login_user(user)
        flash(f"Welcome, {user.username}! Your account is ready.", "success")
        return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password."""
    if not current_user.has_password:
        flash("Your account logs in with SSO and has no password here.", "info")
        return redirect(url_for("auth.tokens"))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current.data, form.password.data)
        except Refused as refused:
            db.session.rollback()
            getattr(form, refused.field or "password").errors.append(refused.message)
        else:
            db.session.commit()
            # Every other session ended with the change; this browser carries on with fresh cookies.
            login_user(user, remember=current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies)
            flash("Your password was changed; every other session of yours was logged out.", "success")
            return redirect(url_for("auth.tokens"))
    return render_template("auth/change_password.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List one's API tokens and create a new one, shown once."""
    form = NewTokenForm()
    secret = None
    if form.validate_on_submit():
        row, secret = ApiToken.issue(current_user, form.name.data.strip())
        db.session.add(row)
        db.session.commit()
    rows = db.session.execute(
        db.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).scalars()
    return render_template("auth/tokens.html", form=form, tokens=list(rows), secret=secret, revoke_form=EmptyForm())


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's own API tokens."""
    row = db.get_or_404(ApiToken, token_id)
    if row.user_id != current_user.id:
        abort(404)
    if EmptyForm().validate_on_submit():
        row.revoke()
        db.session.commit()
        flash(f"Token {row.prefix}... revoked.", "info")
    return redirect(url_for("auth.tokens"))
