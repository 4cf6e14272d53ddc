"""What authorisation and audit cost per request.

Runs the same requests (record metadata, page text, a search) against one embedded app,
interleaving two variants in one run so machine noise hits both alike:

- ``full``: the Casbin decisions (and the once-per-request policy-version check) and the
  audit append (HMAC chain, row lock) in the request's transaction, as in production;
- ``no-authz`` and ``no-audit``: one of the two replaced by a no-op, to split the cost;
- ``off``: both replaced by no-ops for the duration of the request.

Authentication (token check and user lookup) runs in both. Prints medians and p95 in ms.

    python -m benchmarks.access_cost [--requests 300] [--backends embedded|services]

``services`` uses PostgreSQL, MinIO and Elasticsearch from ``scripts/services.sh env``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

import archive.services.audit
from archive.app import create_app
from policies import SECURITY_LEVELS, CasbinAuthorizer, Decision, Reach
from tests import documents
from tests.factories import (
    bootstrap,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
    wait_for_job,
)


@contextmanager
def switched_off(*, authorisation: bool, audit: bool):
    replaced = {name: getattr(CasbinAuthorizer, name)
                for name in ("decide", "domains", "reach", "refresh")}
    record = archive.services.audit.Trail.record
    if authorisation:
        CasbinAuthorizer.decide = (  # type: ignore[method-assign]
            lambda self, *args: Decision.ALLOW)
        CasbinAuthorizer.domains = lambda self, *args: ("/",)  # type: ignore[method-assign]
        CasbinAuthorizer.reach = (  # type: ignore[method-assign]
            lambda self, *args: Reach(("/",), SECURITY_LEVELS))
        CasbinAuthorizer.refresh = lambda self: None  # type: ignore[method-assign]
    if audit:
        archive.services.audit.Trail.record = (  # type: ignore[method-assign]
            lambda self, *a, **k: None)
    try:
        yield
    finally:
        for name, method in replaced.items():
            setattr(CasbinAuthorizer, name, method)
        archive.services.audit.Trail.record = record  # type: ignore[method-assign]


# variant → (authorisation off, audit off)
VARIANTS = {"full": (False, False), "no-authz": (True, False), "no-audit": (False, True),
            "off": (True, True)}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--backends", choices=("embedded", "services"), default="embedded")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, make_settings(args.backends, Path(tmp)) as settings:
        bootstrap(settings)
        with TestClient(create_app(settings)) as client:
            archivist = login(client, "archivist")
            create_customer(client, archivist, "3300012345")
            dossier = create_dossier(client, archivist, "3300012345")["id"]
            ids = upload(client, archivist, dossier, documents.text_pdf(
                ["供用电合同 第八条 用电人窃电的，供电人有权中止供电"])).json()
            wait_for_job(client, archivist, ids["job_id"])
            clerk = login(client, "clerk")
            record = ids["record_id"]
            requests = {
                "GET /records/{id}": lambda: client.get(f"/api/v1/records/{record}",
                                                        headers=clerk),
                "GET /records/{id}/text": lambda: client.get(f"/api/v1/records/{record}/text",
                                                             headers=clerk),
                "GET /search?q=窃电": lambda: client.get("/api/v1/search",
                                                        params={"q": "窃电"}, headers=clerk),
            }
            print(f"backends: {args.backends}, {args.requests} requests per variant")
            print(f"{'request':<24}{'variant':<10}{'median ms':>10}{'p95 ms':>10}")
            for name, call in requests.items():
                timings: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
                for _ in range(20):  # warm up
                    call()
                for i in range(args.requests * len(VARIANTS)):
                    variant = list(VARIANTS)[i % len(VARIANTS)]
                    authorisation, audit = VARIANTS[variant]
                    with switched_off(authorisation=authorisation, audit=audit):
                        started = time.perf_counter()
                        response = call()
                        timings[variant].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
                for variant, values in timings.items():
                    print(f"{name:<24}{variant:<10}{statistics.median(values):>10.2f}"
                          f"{p95(values):>10.2f}")
                extra = statistics.median(timings["full"]) - statistics.median(timings["off"])
                print(f"{'':<24}{'cost':<10}{extra:>10.2f}"
                      f"{p95(timings['full']) - p95(timings['off']):>10.2f}")


if __name__ == "__main__":
    main()
