#!/usr/bin/env bash
# What only benchmarks/ocr_quality.py needs, to set this project's OCR beside OCRmyPDF:
# OCRmyPDF (PyPI, into .venv; it brings img2pdf and pikepdf), its Debian helper ghostscript,
# and the tesseract and poppler (pdftotext) packages that scripts/services.sh installs too.
# Not a project dependency: the archive never runs OCRmyPDF.
#
#   scripts/bench-deps.sh      install what is missing; does nothing when all is there
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OCRMYPDF_SPEC='ocrmypdf>=16,<18'

log() { printf '[bench-deps] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

wanted=(ghostscript tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng poppler-utils)
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

if ! "$PYTHON" -c 'import ocrmypdf' 2>/dev/null; then
    log "pip install $OCRMYPDF_SPEC"
    "$PYTHON" -m pip install --quiet "$OCRMYPDF_SPEC"
fi
log "ready: $("$PYTHON" -m ocrmypdf --version) with ghostscript $(gs --version)"
