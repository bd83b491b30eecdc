"""The OpenAPI document is valid 3.1 and describes every route of the sync API."""
from __future__ import annotations

from openapi_spec_validator import validate

from sync.server import openapi
from sync.server.app import create_app


def test_document_validates():
    validate(openapi.document())


def test_every_api_route_is_documented(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "t"})
    routes = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(("api.", "bank_api.")) for method in rule.methods
              if method not in ("HEAD", "OPTIONS")}
    documented = {(path, method) for path, item in openapi.PATHS.items() for method in item}
    assert routes == documented


def test_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"] == "3.1.0"
    assert response.headers["X-Server-Time"]
