#!/usr/bin/env bash
# Set up and run the archive on its embedded defaults: SQLite, files under ./var, SQLite FTS5
# search, an in-process ingest worker. No servers needed; tesseract (OCR) and the Noto CJK
# fonts (for `archive demo`) come from Debian packages; the web application is built with
# npm (Node 20.19 or later).
#   HOST=0.0.0.0 PORT=8080 scripts/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -q chi_sim \
    || [ ! -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || ! command -v jq >/dev/null; then
    echo "installing tesseract (chi_sim, eng), fonts-noto-cjk and jq" >&2
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim \
        tesseract-ocr-eng tesseract-ocr-osd fonts-noto-cjk jq >/dev/null
fi

if [ ! -x .venv/bin/archive ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e .
bash scripts/build-web.sh --if-stale  # the web application, served at /

.venv/bin/archive migrate
exec .venv/bin/archive serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
