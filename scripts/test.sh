#!/usr/bin/env bash
# Install everything the tests need (tesseract, Elasticsearch, MinIO, PostgreSQL, Chromium,
# the Python and npm packages, the built web application), start the services, and run the
# linter and the whole test suite (browser tests included) against them.
# Every configured service is required: a missing one fails the run instead of skipping.
# Extra arguments go to pytest, e.g. scripts/test.sh -k search.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh up

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# Playwright for Python drives Debian's chromium (installed above): no browser download
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 .venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
bash scripts/build-web.sh  # the web application the browser tests drive, and its types

eval "$(bash scripts/services.sh env)"
export ARCHIVE_TEST_REQUIRE_SERVICES=1
# the browser tests' screenshots (the README shows them from here); var/ is not in git
export ARCHIVE_TEST_OUTPUT="${ARCHIVE_TEST_OUTPUT:-$PWD/var/test-output}"

.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
