"""Every text a client can send has a bound: no field takes a megabyte."""

from __future__ import annotations

import pytest

from tests.factories import create_customer, create_dossier, login


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def _unbounded(schema: dict, components: dict, path: str, seen: set[str]) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _unbounded(components[name], components, f"{path}<{name}>", seen)
    found = []
    for key in ("anyOf", "allOf", "oneOf"):
        for option in schema.get(key, []):
            found += _unbounded(option, components, path, seen)
    if schema.get("type") == "string" and not (
            "maxLength" in schema or "enum" in schema or "const" in schema
            or schema.get("format") in ("date", "date-time", "binary")
            or "contentMediaType" in schema):  # an upload: bounded by max_upload_bytes
        found.append(path)
    if schema.get("type") == "array":
        if "maxItems" not in schema:
            found.append(f"{path}[] (no maxItems)")
        found += _unbounded(schema.get("items", {}), components, f"{path}[]", seen)
    for name, prop in schema.get("properties", {}).items():
        found += _unbounded(prop, components, f"{path}.{name}", seen)
    return found


def test_every_request_string_has_a_maximum_length(client) -> None:
    spec = client.app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    unbounded = []
    for route, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {route}"
            # path parameters are bounded by the request line (h11 refuses one over 16 KB)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    continue
                unbounded += _unbounded(parameter.get("schema", {}), components,
                                        f"{where} ?{parameter['name']}", set())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(content.get("schema", {}), components, where, set())
    assert unbounded == [], "\n".join(unbounded)


def test_a_long_field_is_refused_with_422_and_a_huge_body_with_413(client) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")
    huge = "借" * 100_000  # 300 KB: within the body limit, far beyond any field
    for method, path, body in (
            ("post", "/api/v1/customers", {"account": "3300012399", "name": huge,
                                           "customer_class": "低压", "unit": "xh"}),
            ("post", "/api/v1/borrow-requests", {"dossier_id": dossier["id"], "purpose": huge,
                                                 "days": 7}),
            ("put", f"/api/v1/dossiers/{dossier['id']}/location", {"room": huge}),
            ("post", f"/api/v1/dossiers/{dossier['id']}/hold", {"reason": huge}),
            ("post", "/api/v1/transfers", {"receiver": huge, "dossier_id": dossier["id"]})):
        response = getattr(client, method)(path, json=body, headers=archivist)
        assert response.status_code == 422, (path, response.status_code)
        assert len(response.content) < 4096
        megabytes = {name: value * 12 if value == huge else value
                     for name, value in body.items()}
        response = getattr(client, method)(path, json=megabytes, headers=archivist)
        assert response.status_code == 413, (path, response.status_code)
