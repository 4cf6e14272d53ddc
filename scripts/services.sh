#!/usr/bin/env bash
# Install and run the real backing services as plain loopback processes (no Docker):
# tesseract (Debian), PostgreSQL (Debian), Redis (Debian, the task engine's broker),
# Elasticsearch (Maven Central integ-test-zip) and MinIO (built from the Go module proxy).
#
#   scripts/services.sh install   install packages, fetch and build servers (cached, idempotent)
#   scripts/services.sh up        install, then start every service and wait until ready
#   scripts/services.sh down      stop the services this script started
#   scripts/services.sh status    show what is running
#   scripts/services.sh env       print the ARCHIVE_TEST_* exports for the running services
#   scripts/services.sh stop NAME   stop one service (postgres|redis|minio|elasticsearch): the
#   scripts/services.sh start NAME  outage tests use these; start waits until it answers
#   scripts/services.sh es-stop|es-start  the same for Elasticsearch (kept for old callers)
#
# Downloads and builds are cached in $ARCHIVE_SERVICES_CACHE (default
# ~/.cache/archive-services), runtime data lives in $ARCHIVE_SERVICES_RUN
# (default ~/.cache/archive-services/run). Versions are pinned below and in docker-compose.yml.
set -euo pipefail

ES_VERSION=8.19.21
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
PG_VERSION=15

CACHE=${ARCHIVE_SERVICES_CACHE:-$HOME/.cache/archive-services}
RUN=${ARCHIVE_SERVICES_RUN:-$CACHE/run}
ES_PORT=${ARCHIVE_ES_PORT:-19200}
MINIO_PORT=${ARCHIVE_MINIO_PORT:-19000}
MINIO_CONSOLE_PORT=${ARCHIVE_MINIO_CONSOLE_PORT:-19001}
PG_PORT=${ARCHIVE_PG_PORT:-5432}
REDIS_PORT=${ARCHIVE_REDIS_PORT:-16379}
ES_USER=archive-es
MINIO_USER=archive-test
PG_USER=archive
PG_DB=archive_test
# Passwords of the loopback test services: random, made once per machine, kept beside the
# services' data (never in the repository).
CREDENTIALS=$RUN/credentials.env

ES_HOME=$CACHE/elasticsearch-$ES_VERSION
MINIO_BIN=$CACHE/minio-$MINIO_VERSION/bin/minio

log() { printf '[services] %s\n' "$*" >&2; }

load_credentials() {
    if [ ! -f "$CREDENTIALS" ]; then
        mkdir -p "$RUN"
        (umask 077 && printf 'MINIO_PASSWORD=%s\nPG_PASSWORD=%s\n' \
            "$(python3 -c 'import secrets; print(secrets.token_hex(16))')" \
            "$(python3 -c 'import secrets; print(secrets.token_hex(16))')" >"$CREDENTIALS")
    fi
    if ! grep -q '^REDIS_PASSWORD=' "$CREDENTIALS"; then  # a file from before Redis came
        printf 'REDIS_PASSWORD=%s\n' "$(python3 -c 'import secrets; print(secrets.token_hex(16))')" \
            >>"$CREDENTIALS"
    fi
    # shellcheck disable=SC1090
    . "$CREDENTIALS"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_debian() {
    local wanted=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng tesseract-ocr-osd
        poppler-utils fonts-noto-cjk "postgresql-$PG_VERSION" redis-server unzip curl chromium)
    local missing=()
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "apt-get install ${missing[*]}"
        as_root apt-get update -qq
        as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

install_elasticsearch() {
    [ -x "$ES_HOME/bin/elasticsearch" ] && return
    log "fetching Elasticsearch $ES_VERSION from Maven Central"
    local tmp
    tmp=$(mktemp -d)
    mvn -q -B dependency:copy \
        -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
        -DoutputDirectory="$tmp" >&2
    unzip -q "$tmp/elasticsearch-$ES_VERSION.zip" -d "$tmp/x"
    mkdir -p "$CACHE"
    mv "$tmp/x/elasticsearch-$ES_VERSION" "$ES_HOME"
    rm -rf "$tmp"
}

install_minio() {
    [ -x "$MINIO_BIN" ] && return
    log "building MinIO $MINIO_VERSION (several minutes the first time)"
    local gocache=$CACHE/go
    mkdir -p "$gocache" "$(dirname "$MINIO_BIN")"
    if ! GOPATH=$gocache GOBIN=$(dirname "$MINIO_BIN") GOFLAGS=-mod=mod \
        go install "$MINIO_MODULE@$MINIO_VERSION" >&2; then
        # go install refuses modules whose go.mod has replace directives: build a copy instead.
        local dir src
        dir=$(GOPATH=$gocache go mod download -json "$MINIO_MODULE@$MINIO_VERSION" \
            | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
        src=$(mktemp -d)
        cp -r "$dir/." "$src"
        chmod -R u+w "$src"
        (cd "$src" && GOPATH=$gocache go build -o "$MINIO_BIN" . >&2)
        rm -rf "$src"
    fi
}

install_all() {
    install_debian
    install_elasticsearch
    install_minio
}

es_up() {
    if curl -fsS -m 5 "http://127.0.0.1:$ES_PORT/_cluster/health" >/dev/null 2>&1; then return; fi
    id -u "$ES_USER" >/dev/null 2>&1 || as_root useradd --system --no-create-home "$ES_USER"
    local home=$RUN/elasticsearch
    mkdir -p "$home/data" "$home/logs" "$home/config"
    cp -r "$ES_HOME/config/." "$home/config/"
    cat >"$home/config/elasticsearch.yml" <<EOF
cluster.name: archive-test
discovery.type: single-node
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $((ES_PORT + 100))
path.data: $home/data
path.logs: $home/logs
xpack.security.enabled: false
xpack.ml.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
    as_root chown -R "$ES_USER" "$home"
    # The unprivileged user must be able to traverse to the install and run folders.
    chmod o+rx "$HOME" "$HOME/.cache" "$CACHE" "$RUN" 2>/dev/null || true
    chmod -R o+rX "$ES_HOME"
    log "starting Elasticsearch on 127.0.0.1:$ES_PORT"
    as_root env ES_JAVA_HOME="${ES_JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}" \
        ES_JAVA_OPTS="-Xms512m -Xmx512m" ES_PATH_CONF="$home/config" \
        runuser -u "$ES_USER" -- "$ES_HOME/bin/elasticsearch" -d -p "$home/es.pid" >&2
}

minio_up() {
    if curl -fsS -m 5 "http://127.0.0.1:$MINIO_PORT/minio/health/live" >/dev/null 2>&1; then return; fi
    mkdir -p "$RUN/minio/data"
    log "starting MinIO on 127.0.0.1:$MINIO_PORT"
    MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD \
        nohup "$MINIO_BIN" server "$RUN/minio/data" --address "127.0.0.1:$MINIO_PORT" \
        --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" >"$RUN/minio/minio.log" 2>&1 &
    echo $! >"$RUN/minio/minio.pid"
}

pg_up() {
    if ! pg_lsclusters -h 2>/dev/null | grep -q "^$PG_VERSION main"; then
        as_root pg_createcluster "$PG_VERSION" main >/dev/null
    fi
    if ! pg_lsclusters -h | grep -q "^$PG_VERSION main .* online"; then
        log "starting PostgreSQL $PG_VERSION"
        as_root pg_ctlcluster "$PG_VERSION" main start
    fi
    as_root runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$PG_USER'" \
        | grep -q 1 || as_root runuser -u postgres -- psql -qc "CREATE ROLE $PG_USER LOGIN CREATEDB"
    # (Re)set the password on every start, so it always matches the credentials file.
    as_root runuser -u postgres -- psql -qc "ALTER ROLE $PG_USER PASSWORD '$PG_PASSWORD'"
    as_root runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" \
        | grep -q 1 || as_root runuser -u postgres -- createdb -O "$PG_USER" "$PG_DB"
}

redis_up() {
    local home=$RUN/redis
    if [ -f "$home/redis.pid" ] && kill -0 "$(cat "$home/redis.pid")" 2>/dev/null; then return; fi
    mkdir -p "$home"
    # a private instance (never the system service): loopback, a password, an append-only
    # file so a restart keeps the queues (as production's Redis must)
    (umask 077 && printf '%s\n' "bind 127.0.0.1" "port $REDIS_PORT" "dir $home" \
        "pidfile $home/redis.pid" "logfile $home/redis.log" "daemonize yes" 'save ""' \
        "appendonly yes" "requirepass $REDIS_PASSWORD" >"$home/redis.conf")
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server "$home/redis.conf"
}

redis_ready() {
    for _ in $(seq 60); do
        if REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
            log "Redis ready"; return
        fi
        sleep 0.5
    done
    log "Redis did not answer on 127.0.0.1:$REDIS_PORT"
    return 1
}

redis_stop() {
    local pidfile=$RUN/redis/redis.pid
    [ -f "$pidfile" ] || { log "Redis was not started by this script"; return 1; }
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do
        if ! kill -0 "$pid" 2>/dev/null; then log "Redis stopped"; return; fi
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
}

minio_stop() {
    local pidfile=$RUN/minio/minio.pid
    [ -f "$pidfile" ] || { log "MinIO was not started by this script"; return 1; }
    kill "$(cat "$pidfile")" 2>/dev/null || true
    for _ in $(seq 60); do
        if ! curl -fsS -m 1 "http://127.0.0.1:$MINIO_PORT/minio/health/live" >/dev/null 2>&1; then
            rm -f "$pidfile"; log "MinIO stopped"; return
        fi
        sleep 0.5
    done
    return 1
}

pg_ready() {
    for _ in $(seq 60); do
        if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then log "PostgreSQL ready"; return; fi
        sleep 0.5
    done
    return 1
}

stop_one() {
    case "${1:-}" in
        postgres) as_root pg_ctlcluster "$PG_VERSION" main stop -m fast && log "PostgreSQL stopped" ;;
        redis) redis_stop ;;
        minio) minio_stop ;;
        elasticsearch) es_stop ;;
        *) echo "usage: $0 stop postgres|redis|minio|elasticsearch" >&2; return 2 ;;
    esac
}

start_one() {
    case "${1:-}" in
        postgres) pg_up && pg_ready ;;
        redis) redis_up && redis_ready ;;
        minio) minio_up && wait_for MinIO "http://127.0.0.1:$MINIO_PORT/minio/health/live" ;;
        elasticsearch) es_start ;;
        *) echo "usage: $0 start postgres|redis|minio|elasticsearch" >&2; return 2 ;;
    esac
}

wait_for() {
    local name=$1 url=$2 tries=${3:-120}
    for _ in $(seq "$tries"); do
        if curl -fsS "$url" >/dev/null 2>&1; then log "$name ready"; return; fi
        sleep 1
    done
    log "$name did not become ready at $url"
    return 1
}

up() {
    mkdir -p "$RUN"
    install_all
    pg_up
    redis_up
    es_up
    minio_up
    redis_ready
    wait_for MinIO "http://127.0.0.1:$MINIO_PORT/minio/health/live"
    wait_for Elasticsearch "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=1s" 180
    tesseract --list-langs 2>/dev/null | grep -q chi_sim || { log "tesseract chi_sim missing"; return 1; }
}

es_stop() {
    local pidfile=$RUN/elasticsearch/es.pid
    [ -f "$pidfile" ] || { log "Elasticsearch was not started by this script"; return 1; }
    local pid
    pid=$(cat "$pidfile")
    as_root kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do
        if ! as_root kill -0 "$pid" 2>/dev/null; then log "Elasticsearch stopped"; return; fi
        sleep 1
    done
    as_root kill -9 "$pid" 2>/dev/null || true
}

es_start() {
    es_up
    wait_for Elasticsearch "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=1s" 180
}

down() {
    if [ -f "$RUN/minio/minio.pid" ]; then kill "$(cat "$RUN/minio/minio.pid")" 2>/dev/null || true; rm -f "$RUN/minio/minio.pid"; fi
    if [ -f "$RUN/elasticsearch/es.pid" ]; then as_root kill "$(cat "$RUN/elasticsearch/es.pid")" 2>/dev/null || true; fi
    if [ -f "$RUN/redis/redis.pid" ]; then kill "$(cat "$RUN/redis/redis.pid")" 2>/dev/null || true; fi
    as_root pg_ctlcluster "$PG_VERSION" main stop 2>/dev/null || true
}

status() {
    curl -fsS "http://127.0.0.1:$ES_PORT/_cluster/health" && echo || echo "elasticsearch: down"
    curl -fsS "http://127.0.0.1:$MINIO_PORT/minio/health/live" && echo "minio: up" || echo "minio: down"
    pg_lsclusters 2>/dev/null || echo "postgresql: not installed"
    REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG \
        && echo "redis: up" || echo "redis: down"
    tesseract --version 2>&1 | head -1 || echo "tesseract: not installed"
}

print_env() {
    cat <<EOF
export ARCHIVE_TEST_ES_URL=http://127.0.0.1:$ES_PORT
export ARCHIVE_TEST_MINIO_ENDPOINT=127.0.0.1:$MINIO_PORT
export ARCHIVE_TEST_MINIO_ACCESS_KEY=$MINIO_USER
export ARCHIVE_TEST_MINIO_SECRET_KEY=$MINIO_PASSWORD
export ARCHIVE_TEST_PG_URL=postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB
export ARCHIVE_TEST_REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0
export ARCHIVE_TEST_TESSERACT=1
EOF
}

load_credentials

case "${1:-}" in
    install) install_all ;;
    up) up ;;
    down) down ;;
    status) status ;;
    env) print_env ;;
    stop) stop_one "${2:-}" ;;
    start) start_one "${2:-}" ;;
    es-stop) es_stop ;;
    es-start) es_start ;;
    *) echo "usage: $0 install|up|down|status|env|stop NAME|start NAME" >&2; exit 2 ;;
esac
