#!/usr/bin/env bash
# Build the web application into web/dist (served by `archive serve` at /): the API's
# OpenAPI schema is written from the app, its TypeScript types generated from it (so the
# screens and the API cannot drift: vue-tsc fails the build), then type-checked and bundled.
#   scripts/build-web.sh            types + build
#   scripts/build-web.sh --types    only regenerate src/api/schema.d.ts
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null; then
    echo "npm is needed to build the web application (Node 20.19 or later)" >&2
    exit 1
fi
cd web
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
../.venv/bin/python -c 'import json; from archive.app import create_app; print(json.dumps(create_app().openapi(), ensure_ascii=False, indent=1))' > openapi.json
npx openapi-typescript ./openapi.json -o src/api/schema.d.ts --silent
if [ "${1:-}" = "--types" ]; then
    exit 0
fi
npm run build --silent
