"""Administration views."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import RolesForm
from app.auth.decorators import roles_required
from app.auth.forms import EmptyForm
from app.extensions import db
from app.models import HealthCheck, Role, User
from app.services import accounts
from app.services.queue import enqueue


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    """Every user with their roles."""
    return render_template("admin/users.html", users=accounts.all_users())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    """Grant and take away roles, deactivate an account, or log its user out everywhere."""
    user = db.get_or_404(User, user_id)
    form = RolesForm(data={"roles": sorted(r.value for r in user.roles), "active": user.active})
    if form.validate_on_submit():
        roles = {Role(value) for value in form.roles.data}
        if user.id == current_user.id and (Role.ADMIN not in roles or not form.active.data):
            flash("You cannot remove your own admin role or deactivate yourself.", "danger")
            return render_template("admin/user.html", user=user, form=form, sessions_form=EmptyForm()), 400
        accounts.update_account(user, roles, form.active.data, by=current_user._get_current_object())
        db.session.commit()
        flash(f"Saved {user.username}.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user.html", user=user, form=form, sessions_form=EmptyForm())


@bp.route("/users/<int:user_id>/logout", methods=["POST"])
@roles_required(Role.ADMIN)
def end_sessions(user_id: int):
    """Log a user out everywhere: every session and remember cookie ends; API tokens stay valid."""
    user = db.get_or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        accounts.end_sessions(user, "logged out everywhere by an admin", by=current_user._get_current_object())
        db.session.commit()
        flash(f"{user.username} is logged out of every browser.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/system", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def system():
    """Whether background workers take jobs: send a health check through the queue."""
    form = EmptyForm()
    if form.validate_on_submit():
        check = HealthCheck()
        db.session.add(check)
        db.session.commit()
        enqueue("workers.jobs.health_check", check.id)
        flash("Health check sent; reload in a moment to see which worker answered.", "info")
        return redirect(url_for("admin.system"))
    checks = db.session.execute(db.select(HealthCheck).order_by(HealthCheck.id.desc()).limit(10)).scalars()
    return render_template("admin/system.html", form=form, checks=list(checks))
