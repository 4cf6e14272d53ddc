"""The web application's API types are the app's: web/src/api/schema.d.ts, generated from
the OpenAPI schema by openapi-typescript, matches what the app serves now (vue-tsc then
fails the build of any screen that calls the API wrongly)."""

from __future__ import annotations

import json
import subprocess

from archive.app import create_app
from archive.settings import Settings
from tests.browser.conftest import WEB, _require_build


def test_the_committed_api_types_match_the_app(tmp_path) -> None:
    _require_build()
    schema = tmp_path / "openapi.json"
    app = create_app(Settings(data_dir=tmp_path / "var"))
    schema.write_text(json.dumps(app.openapi(), ensure_ascii=False, indent=1))
    out = tmp_path / "schema.d.ts"
    subprocess.run([str(WEB / "node_modules" / ".bin" / "openapi-typescript"), str(schema),
                    "-o", str(out)], check=True, capture_output=True, timeout=120)
    assert out.read_text() == (WEB / "src" / "api" / "schema.d.ts").read_text(), (
        "web/src/api/schema.d.ts is stale: run scripts/build-web.sh --types")
