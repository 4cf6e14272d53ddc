# MinIO built from the same module version the test suite builds (scripts/services.sh),
# since the community project publishes no image for its last source.
FROM golang:1.24-bookworm AS build
ARG MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
RUN GOBIN=/out go install github.com/minio/minio@${MINIO_VERSION}

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --uid 10002 minio
COPY --from=build /out/minio /usr/local/bin/minio
USER minio
ENTRYPOINT ["/usr/local/bin/minio"]
