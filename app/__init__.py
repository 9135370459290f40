"""DQM Playground: data certification as labelling, and competitions on the labels."""

from __future__ import annotations

import os

from flask import Flask

from config import Config


def create_app(config: Config | type[Config] = Config, **overrides) -> Flask:
    """Create the application: the one place that binds extensions and registers blueprints."""
    app = Flask(__name__)
    app.config.from_object(config() if isinstance(config, type) else config)
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)  # the embedded database and files live here

    _trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)

    from app import cli, errors, observability, security, templating

    observability.register(app)
    errors.register(app)
    security.register(app)
    templating.register(app)
    cli.register(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies (an ingress, a router), take the client's address and scheme
    from their X-Forwarded-* headers: rate limits then count clients, not the proxy. With none (the
    default), those headers are ignored, so a client cannot pick its own address by sending them."""
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (registers the models with the metadata)
    from app.auth import oidc
    from app.extensions import cache, csrf, db, limiter, login_manager, migrate
    from app.services import queue, storage

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    oidc.init_app(app)  # single sign-on: checks its settings, stops a start-up they do not allow
    queue.init_app(app)
    app.extensions["storage"] = storage.storage_from_url(
        app.config["STORAGE_URL"],
        endpoint_url=app.config.get("S3_ENDPOINT_URL"),
        public_endpoint_url=app.config.get("S3_PUBLIC_ENDPOINT_URL"),
    )


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.certification import bp as certification_bp
    from app.competitions import bp as competitions_bp
    from app.datasets import bp as datasets_bp
    from app.leaderboards import bp as leaderboards_bp
    from app.main import bp as main_bp
    from app.reports import bp as reports_bp
    from app.submissions import bp as submissions_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(competitions_bp)
    app.register_blueprint(datasets_bp)
    app.register_blueprint(submissions_bp)
    app.register_blueprint(leaderboards_bp)
    app.register_blueprint(certification_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
