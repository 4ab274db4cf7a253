# ./dev up / down / status / token. Sourced by ./dev after scripts/lib.sh.

RUN_DIR="$MONETA_DEV_DIR/run"
LOG_DIR="$MONETA_DEV_DIR/log"
SECRETS_DIR="$MONETA_DEV_DIR/secrets"
RELEASE_DIR="$MONETA_BUILD_DIR/release"
BIN_MONETA="$RELEASE_DIR/services/moneta/moneta"
BIN_INTERNAL_API="$RELEASE_DIR/services/internal_api/internal_api"
BIN_JWT_TOOL="$RELEASE_DIR/tools/jwt_tool/jwt_tool"

build_release() {
    log "building (Release) in $RELEASE_DIR"
    build_tree "$RELEASE_DIR" -DCMAKE_BUILD_TYPE=Release -DMONETA_BUILD_TESTS=OFF -DMONETA_BUILD_BENCH=OFF
    cmake --build "$RELEASE_DIR" -j "$MONETA_JOBS" --target moneta internal_api jwt_tool >/dev/null \
        || cmake --build "$RELEASE_DIR" -j 1 --target moneta internal_api jwt_tool
}

# load_secret <name> <env var> [bytes]: the env value if set, else a random one (hex of <bytes>
# random bytes, default 32) persisted under .dev/secrets. PallyCon keys are 16 bytes = 32 chars.
load_secret() {
    local name="$1" var="$2" bytes="${3:-32}"
    if [[ -n "${!var:-}" ]]; then
        return 0
    fi
    mkdir -p "$SECRETS_DIR"
    chmod 700 "$SECRETS_DIR"
    if [[ ! -s "$SECRETS_DIR/$name" ]]; then
        (umask 077 && openssl rand -hex "$bytes" > "$SECRETS_DIR/$name")
    fi
    printf -v "$var" '%s' "$(cat "$SECRETS_DIR/$name")"
    export "${var?}"
}

# The CloudFront signing key of the dev stack (RSA-2048, PEM); MONETA_CDN_KEY_FILE overrides it.
load_cdn_key() {
    if [[ -n "${MONETA_CDN_KEY_FILE:-}" ]]; then
        return 0
    fi
    mkdir -p "$SECRETS_DIR"
    chmod 700 "$SECRETS_DIR"
    if [[ ! -s "$SECRETS_DIR/cdn_key.pem" ]]; then
        (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$SECRETS_DIR/cdn_key.pem" 2>/dev/null)
    fi
    export MONETA_CDN_KEY_FILE="$SECRETS_DIR/cdn_key.pem"
}

pid_alive() {
    local pidfile="$1"
    [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_bg <name> <port> <cmd...>: start in the background unless our pid file says it runs.
start_bg() {
    local name="$1" port="$2"
    shift 2
    local pidfile="$RUN_DIR/$name.pid"
    if pid_alive "$pidfile"; then
        log "$name already running (pid $(cat "$pidfile"))"
        return 0
    fi
    if port_in_use "$port"; then
        die "$name: port $port is already taken by another process (set the port variable to move it)"
    fi
    log "starting $name on 127.0.0.1:$port"
    nohup "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
}

wait_http() {
    local url="$1" seconds="$2" name="$3"
    local i
    for ((i = 0; i < seconds * 10; i++)); do
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    die "$name did not become ready at $url within ${seconds}s (see $LOG_DIR/)"
}

render_nginx_conf() {
    local dir="$RUN_DIR/nginx"
    mkdir -p "$dir"
    sed -e "s#@RUN_DIR@#$dir#g" -e "s#@CONF_DIR@#$ROOT/deploy/nginx#g" -e "s#@WORKERS@#${MONETA_EDGE_WORKERS:-auto}#" \
        -e "s#@DAEMON@#off#" -e "s#@RATE_PER_SEC@#${MONETA_EDGE_RATE_PER_SEC:-50}#" \
        -e "s#@RATE_BURST@#${MONETA_EDGE_RATE_BURST:-100}#g" -e "s#@MONETA_PORT@#$MONETA_PORT#" \
        -e "s#@EDGE_PORT@#$MONETA_EDGE_PORT#" "$ROOT/deploy/nginx/nginx.conf.template" >"$dir/nginx.conf"
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
}

stack_up() {
    ensure_packages
    build_release
    mkdir -p "$RUN_DIR" "$LOG_DIR" "$MONETA_DEV_DIR/redis" "$MONETA_DEV_DIR/data"
    load_secret jwt_hs256 MONETA_JWT_SECRET
    load_secret internal_api_token INTERNAL_API_TOKEN
    load_secret drm_site_key MONETA_DRM_SITE_KEY 16
    load_secret drm_access_key MONETA_DRM_ACCESS_KEY 16
    load_cdn_key

    # Redis: AOF everysec, so a Redis restart loses at most ~1 s of buffered progress.
    start_bg redis "$MONETA_REDIS_PORT" redis-server --port "$MONETA_REDIS_PORT" --bind 127.0.0.1 \
        --dir "$MONETA_DEV_DIR/redis" --appendonly yes --appendfsync everysec --save "" \
        --daemonize no --protected-mode yes
    start_bg internal_api "$INTERNAL_API_PORT" "$BIN_INTERNAL_API" \
        --config "$ROOT/services/internal_api/config/internal_api.json" \
        --port "$INTERNAL_API_PORT" --db "$MONETA_DEV_DIR/data/internal_api.sqlite" \
        --fixtures "$MONETA_FIXTURES"
    wait_http "http://127.0.0.1:$INTERNAL_API_PORT/healthz" 60 internal_api
    start_bg moneta "$MONETA_PORT" "$BIN_MONETA" --config "$ROOT/services/moneta/config/moneta.json"
    wait_http "http://127.0.0.1:$MONETA_PORT/healthz" 30 moneta
    render_nginx_conf
    start_bg nginx "$MONETA_EDGE_PORT" nginx -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf" \
        -e "$RUN_DIR/nginx/error.log"
    wait_http "http://127.0.0.1:$MONETA_EDGE_PORT/readyz" 30 "the stack (through nginx)"

    local token
    token="$("$BIN_JWT_TOOL" sign --secret-env MONETA_JWT_SECRET --sub a_1 --pid p_1 --ttl 3600 \
        --iss moneta-dev --aud moneta)"
    cat <<INFO

Moneta is up.
  edge (nginx)   http://127.0.0.1:$MONETA_EDGE_PORT
  moneta         http://127.0.0.1:$MONETA_PORT   admin http://127.0.0.1:$MONETA_ADMIN_PORT/metrics
  internal-api   http://127.0.0.1:$INTERNAL_API_PORT
  redis          127.0.0.1:$MONETA_REDIS_PORT
  logs           $LOG_DIR/   stop with: ./dev down
  HS256 dev secret: $SECRETS_DIR/jwt_hs256 (or \$MONETA_JWT_SECRET)

A token for account a_1 / profile p_1 (valid 1 h; more with ./dev token --sub a_1 --pid p_1):
  TOKEN=$token

Start playback through nginx (expect HTTP 201):
  curl -i -X POST http://127.0.0.1:$MONETA_EDGE_PORT/v1/playback/sessions \\
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \\
    -d '{"content_id":"m_1","device":{"id":"d-1","type":"web","name":"Laptop"},"capabilities":{"protocols":["dash"],"drm":["widevine"],"video_codecs":["avc"],"max_height":1080}}'

Then (README "Try it"): heartbeat, list, kick and stop with the session_id it returns.
INFO
}

stop_pid() {
    local name="$1" sig="$2" seconds="$3"
    local pidfile="$RUN_DIR/$name.pid"
    if ! pid_alive "$pidfile"; then
        rm -f "$pidfile"
        return 0
    fi
    local pid
    pid="$(cat "$pidfile")"
    log "stopping $name (pid $pid)"
    kill "-$sig" "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < seconds * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
        sleep 0.1
    done
    log "$name did not stop within ${seconds}s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

stack_down() {
    # Order: the edge first (no new traffic), then moneta (drains, flushes progress), then its
    # dependencies.
    stop_pid nginx QUIT 15
    stop_pid moneta TERM 30
    stop_pid internal_api TERM 15
    stop_pid redis TERM 15
    log "stopped"
}

stack_status() {
    local name
    for name in nginx moneta internal_api redis; do
        if pid_alive "$RUN_DIR/$name.pid"; then
            printf '%-13s running (pid %s)\n' "$name" "$(cat "$RUN_DIR/$name.pid")"
        else
            printf '%-13s stopped\n' "$name"
        fi
    done
}

print_token() {
    [[ -x "$BIN_JWT_TOOL" ]] || build_release
    load_secret jwt_hs256 MONETA_JWT_SECRET
    local sub=a_1 pid=p_1 ttl=3600 alg=HS256
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --sub) sub="$2"; shift 2 ;;
            --pid) pid="$2"; shift 2 ;;
            --ttl) ttl="$2"; shift 2 ;;
            --alg) alg="$2"; shift 2 ;;
            *) die "token: unknown option $1" ;;
        esac
    done
    [[ "$alg" == HS256 ]] || die "token: the dev stack signs HS256 only (got $alg)"
    "$BIN_JWT_TOOL" sign --secret-env MONETA_JWT_SECRET --sub "$sub" --pid "$pid" --ttl "$ttl" \
        --iss moneta-dev --aud moneta
}
