#!/usr/bin/env bash
# Build the web application into web/dist (served by `archive serve` at /): the API's
# OpenAPI schema is written from the app, its TypeScript types generated from it (so the
# screens and the API cannot drift: vue-tsc fails the build), then type-checked and bundled.
#   scripts/build-web.sh            types + build
#   scripts/build-web.sh --types    only regenerate src/api/schema.d.ts
#   scripts/build-web.sh --if-stale only if web/ changed since the last build
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--if-stale" ] && [ -f web/dist/index.html ] && [ -z "$(find web/src web/index.html \
        web/package-lock.json web/vite.config.ts archive -newer web/dist/index.html \
        -name '*.*' -print -quit)" ]; then
    exit 0
fi

if ! command -v npm >/dev/null || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "Node 20.19 or later with npm is needed to build the web application" >&2
    exit 1
fi
cd web
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
../.venv/bin/python -c 'import json; from archive.app import create_app; print(json.dumps(create_app().openapi(), ensure_ascii=False, indent=1))' > openapi.json
npx openapi-typescript ./openapi.json -o src/api/schema.d.ts >/dev/null
if [ "${1:-}" = "--types" ]; then
    exit 0
fi
npm run build --silent
