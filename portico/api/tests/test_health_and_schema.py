"""The health check, the OpenAPI schema and the browsable docs (DESIGN "The API")."""

from __future__ import annotations

import json

import yaml
from drf_spectacular.validation import validate_schema


def test_healthz_answers_200_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_schema_is_a_valid_openapi_3_document(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    validate_schema(document)
    assert {"/api/v1/me/", "/api/v1/tokens/", "/api/v1/tokens/{id}/"} <= set(document["paths"])
    schemes = document["components"]["securitySchemes"]
    assert schemes["personalToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token of one membership.",
    }


def test_schema_yaml_is_the_same_document(client, db):
    as_yaml = yaml.safe_load(client.get("/api/v1/schema/").content)
    as_json = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert as_yaml == as_json


def test_docs_page_renders(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert "'unsafe-inline'" not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
