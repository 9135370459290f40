"""Error pages for people, JSON errors under /api/, and nothing internal leaked by either."""

import pytest


@pytest.fixture
def failing_app(app):
    """The app with routes that fail unexpectedly, served as in production (no propagation)."""

    def boom():
        raise RuntimeError("secret path /storage/solutions/42/solution.csv")

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/api/v1/boom", view_func=boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_unexpected_error_page_reveals_nothing(failing_app):
    response = failing_app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "solution.csv" not in page


def test_unexpected_api_error_is_json_and_reveals_nothing(failing_app):
    response = failing_app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "solution.csv" not in response.get_data(as_text=True)


def test_missing_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_health_probe_reports_the_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": True}
