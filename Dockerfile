# The archive application image: API server and ingest worker share it.

# The web application, built in a stage of its own (its types come from the API's schema,
# committed as web/src/api/schema.d.ts; scripts/build-web.sh regenerates it).
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim-bookworm

# libgl1 and libglib2.0-0: OpenCV, which RapidOCR (the default OCR engine) imports.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim \
       tesseract-ocr-eng tesseract-ocr-osd fonts-noto-cjk libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 archive
WORKDIR /app
COPY pyproject.toml README.md ./
COPY archive ./archive
COPY ingest ./ingest
COPY search ./search
COPY policies ./policies
COPY storage ./storage
RUN pip install --no-cache-dir .
COPY --from=web /web/dist /app/web/dist

USER archive
ENV ARCHIVE_DATA_DIR=/home/archive/var ARCHIVE_WEB_DIR=/app/web/dist
EXPOSE 8000
CMD ["sh", "-c", "archive migrate && archive serve --host 0.0.0.0 --port 8000"]
