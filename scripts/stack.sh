# shellcheck shell=bash
# ./dev up [--cluster] / down / status / token. Sourced by ./dev after scripts/lib.sh.

RUN_DIR="$MONETA_DEV_DIR/run"
LOG_DIR="$MONETA_DEV_DIR/log"
SECRETS_DIR="$MONETA_DEV_DIR/secrets"
# MONETA_PREBUILT_DIR: a build tree whose moneta, internal_api, sshca-server and jwt_tool are used as they are
# (no build); the dev-script tests point it at the test build.
RELEASE_DIR="${MONETA_PREBUILT_DIR:-$MONETA_BUILD_DIR/release}"
BIN_MONETA="$RELEASE_DIR/services/moneta/moneta"
BIN_INTERNAL_API="$RELEASE_DIR/services/internal_api/internal_api"
BIN_JWT_TOOL="$RELEASE_DIR/tools/jwt_tool/jwt_tool"
BIN_EXPORTER="$RELEASE_DIR/tools/stack_exporter/stack_exporter"
BIN_SSHCA="$RELEASE_DIR/services/sshca/sshca-server"
BIN_SSHCA_CLI="$RELEASE_DIR/services/sshca/sshca"
# The mode the stack was started in ("single": one redis-server; "cluster": scripts/cluster.sh and
# two moneta instances), so that down and status know it.
MODE_FILE="$RUN_DIR/mode"
STACK_MODE=single

source "$ROOT/scripts/cluster.sh"

build_release() {
    if [[ -n "${MONETA_PREBUILT_DIR:-}" ]]; then
        [[ -x "$BIN_MONETA" && -x "$BIN_INTERNAL_API" && -x "$BIN_JWT_TOOL" && -x "$BIN_EXPORTER" && -x "$BIN_SSHCA" \
            && -x "$BIN_SSHCA_CLI" ]] \
            || die "MONETA_PREBUILT_DIR=$MONETA_PREBUILT_DIR lacks moneta, internal_api, jwt_tool, stack_exporter, sshca-server or sshca"
        return 0
    fi
    log "building (Release) in $RELEASE_DIR"
    build_tree "$RELEASE_DIR" -DCMAKE_BUILD_TYPE=Release -DMONETA_BUILD_TESTS=OFF -DMONETA_BUILD_BENCH=OFF
    cmake --build "$RELEASE_DIR" -j "$MONETA_JOBS" --target moneta internal_api jwt_tool stack_exporter sshca-server sshca >/dev/null \
        || cmake --build "$RELEASE_DIR" -j 1 --target moneta internal_api jwt_tool stack_exporter sshca-server sshca
}

# load_secret <name> <var> [bytes]: the variable's value if set, else a random one (hex of <bytes>
# random bytes, default 32) persisted under .dev/secrets. PallyCon keys are 16 bytes = 32 chars.
# The variable is set in this shell only, NOT exported: start_bg hands each process just the
# secrets it needs (the ENV_* lists below, scrub_env).
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

# proc_alive <pid> <program> [starttime]: 0 when <pid> is a live (not zombie) process whose
# command is <program> and, when given, that started at <starttime> (field 22 of
# /proc/<pid>/stat). `kill -0` alone says yes to a zombie (killed, never reaped: a container
# without an init) and to an unrelated process that reused the pid.
proc_alive() {
    local pid="$1" program="$2" started="${3:-}"
    [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] || return 1
    local stat
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ -n "$stat" ]] || return 1
    # "pid (comm) state ...": comm may hold spaces and ')', so split after the LAST ') '.
    local -a fields
    read -r -a fields <<<"${stat##*) }"
    case "${fields[0]:-}" in
        Z | X | x | "") return 1 ;;
    esac
    if [[ -n "$started" && "${fields[19]:-}" != "$started" ]]; then
        return 1
    fi
    # argv[0], or the title the program gave itself ("nginx: master process ...",
    # "redis-server 127.0.0.1:6380"): its first word, without a directory.
    local argv0=""
    # (2>/dev/null before the input redirection: the process may be gone by now.)
    IFS= read -r -d '' argv0 2>/dev/null <"/proc/$pid/cmdline" || true
    argv0="${argv0%% *}"
    argv0="${argv0%%:*}"
    [[ "${argv0##*/}" == "$program" ]]
}

# proc_exiting <pid> <starttime>: the process is still there and not yet a zombie, though it may
# no longer look like its program: while it exits, its memory (and /proc/<pid>/cmdline with it)
# is gone before the kernel is done with it. `./dev down` waits for that too, so "stopped" means
# the process no longer runs (dev_up_test saw state R right after a down).
proc_exiting() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    local -a fields
    read -r -a fields <<<"${stat##*) }"
    [[ "${fields[19]:-}" == "$2" ]] || return 1
    case "${fields[0]:-}" in
        Z | X | x | "") return 1 ;;
    esac
    return 0
}

# proc_starttime <pid>: field 22 of /proc/<pid>/stat (clock ticks after boot), "" when gone.
proc_starttime() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
    local -a fields
    read -r -a fields <<<"${stat##*) }"
    printf '%s' "${fields[19]:-}"
}

# pid_alive <pidfile> <program>: the pid file ("<pid> <starttime>", or an older "<pid>") names a
# live <program>.
pid_alive() {
    local pidfile="$1" program="$2" pid="" started=""
    [[ -s "$pidfile" ]] || return 1
    read -r pid started <"$pidfile" || [[ -n "$pid" ]] || return 1
    proc_alive "$pid" "$program" "$started"
}

pidfile_pid() {
    local pid=""
    read -r pid _ <"$1" 2>/dev/null || true
    printf '%s' "$pid"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# scrub_env <name...>: un-export every variable but a few harmless ones (PATH, HOME, locale, TZ,
# TMPDIR, sanitizer options) and <name>s; a name ending in '*' keeps a prefix, '!NAME' drops NAME even then. Named
# shell variables that are set but not exported (the secrets of load_secret) get exported. Run it
# in the subshell that execs the process.
scrub_env() {
    local var want keep
    for var in $(compgen -e); do
        keep=0
        for want in PATH HOME LANG LC_ALL TZ TMPDIR ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS "$@"; do
            case "$want" in
                "!$var") keep=0; break ;;
                '!'*) ;;
                *'*') [[ "$var" == "${want%'*'}"* ]] && keep=1 ;;
                *) [[ "$var" == "$want" ]] && keep=1 ;;
            esac
        done
        if [[ $keep -eq 0 ]]; then
            export -n "${var?}" 2>/dev/null || true
        fi
    done
    for want in "$@"; do
        case "$want" in
            '!'* | *'*') ;;
            *) [[ -n "${!want+x}" ]] && export "${want?}" ;;
        esac
    done
    return 0
}

# start_bg <name> <program> <port> <env names> <cmd...>: start in the background unless our pid
# file names a live <program>. The process's environment is scrub_env <env names>: only what it
# needs. Its pid file is "<pid> <starttime>".
start_bg() {
    local name="$1" program="$2" port="$3" env_names="$4"
    shift 4
    local pidfile="$RUN_DIR/$name.pid"
    if pid_alive "$pidfile" "$program"; then
        # A pid file without a start time was written by an older ./dev, whose processes lack
        # today's secrets (e.g. a Redis without a password): restarting is the only fix.
        local recorded_pid="" recorded_start=""
        read -r recorded_pid recorded_start <"$pidfile" || true
        [[ -n "$recorded_start" ]] \
            || die "$name (pid $recorded_pid) was started by an older ./dev: run ./dev down, then ./dev up"
        log "$name already running (pid $recorded_pid)"
        return 0
    fi
    if [[ -s "$pidfile" ]]; then
        log "$name: pid file names no live $program (pid $(pidfile_pid "$pidfile")): starting it"
    fi
    if port_in_use "$port"; then
        die "$name: port $port is already taken by another process (set the port variable to move it)"
    fi
    log "starting $name on 127.0.0.1:$port"
    # shellcheck disable=SC2086 # env_names is a word list
    (scrub_env $env_names && exec nohup "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null) &
    local pid=$!
    echo "$pid $(proc_starttime "$pid")" >"$pidfile"
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

# A secret nginx or redis gets in its config file: the value is never printed, only its name.
check_secret_shape() {
    local var="$1" value="$2"
    [[ "$value" =~ ^[A-Za-z0-9_-]{16,256}$ ]] \
        || die "$var must be 16..256 characters of [A-Za-z0-9_-] (it is written into a config file)"
}

# render_nginx_conf: deploy/nginx/nginx.conf.template → $RUN_DIR/nginx/nginx.conf, plus the four
# files it includes: the CDN ranges (MONETA_CDN_RANGES: CIDRs separated by spaces or commas,
# empty = none) as set_real_ip_from and geo lines, the CDN's origin secret
# (MONETA_CDN_ORIGIN_SECRET, empty = none) and the edge token (MONETA_EDGE_TOKEN, required). Every
# file is mode 0600: two of them hold secrets. Then `nginx -t`.
# upstream_servers: the nginx upstream's server lines, one per moneta instance (MONETA_PORT, and
# MONETA_PORT_2 when MONETA_INSTANCES=2), with passive health checks (docs/edge.md).
upstream_servers() {
    local p out="" ports=("$MONETA_PORT")
    [[ "${MONETA_INSTANCES:-1}" == 2 ]] && ports+=("$MONETA_PORT_2")
    for p in "${ports[@]}"; do
        [[ -n "$out" ]] && out+=' '
        out+="server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"
    done
    printf '%s' "$out"
}

render_nginx_conf() {
    local dir="$RUN_DIR/nginx"
    mkdir -p "$dir"
    check_secret_shape MONETA_EDGE_TOKEN "${MONETA_EDGE_TOKEN:-}"
    if [[ -n "${MONETA_CDN_ORIGIN_SECRET:-}" ]]; then
        check_secret_shape MONETA_CDN_ORIGIN_SECRET "$MONETA_CDN_ORIGIN_SECRET"
    fi
    local range real_ip="" geo="" spec="${MONETA_CDN_RANGES:-}" ranges=()
    read -r -a ranges <<<"${spec//,/ }"
    for range in "${ranges[@]}"; do
        [[ "$range" =~ ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$ ]] \
            || die "MONETA_CDN_RANGES: '$range' is not an address or CIDR"
        real_ip+="set_real_ip_from $range;"$'\n'
        geo+="$range 1;"$'\n'
    done
    (
        umask 077
        printf '%s' "$real_ip" >"$dir/cdn_real_ip.conf"
        printf '%s' "$geo" >"$dir/cdn_ranges.geo"
        if [[ -n "${MONETA_CDN_ORIGIN_SECRET:-}" ]]; then
            printf '"~^%s$" 1;\n' "$MONETA_CDN_ORIGIN_SECRET" >"$dir/cdn_origin_secret.map"
        else
            : >"$dir/cdn_origin_secret.map"
        fi
        printf 'default "%s";\n' "$MONETA_EDGE_TOKEN" >"$dir/edge_token.map"
        sed -e "s#@RUN_DIR@#$dir#g" -e "s#@CONF_DIR@#$ROOT/deploy/nginx#g" -e "s#@WORKERS@#${MONETA_EDGE_WORKERS:-auto}#" \
            -e "s#@DAEMON@#off#" -e "s#@RATE_PER_SEC@#${MONETA_EDGE_RATE_PER_SEC:-50}#" \
            -e "s#@RATE_BURST@#${MONETA_EDGE_RATE_BURST:-100}#g" -e "s#@MONETA_SERVERS@#$(upstream_servers)#" \
            -e "s#@EDGE_PORT@#$MONETA_EDGE_PORT#" -e "s#@STATUS_PORT@#$MONETA_EDGE_STATUS_PORT#" \
            "$ROOT/deploy/nginx/nginx.conf.template" >"$dir/nginx.conf"
    )
    chmod 600 "$dir/nginx.conf" "$dir/cdn_real_ip.conf" "$dir/cdn_ranges.geo" \
        "$dir/cdn_origin_secret.map" "$dir/edge_token.map"
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
}

# render_redis_conf: $RUN_DIR/redis.conf (mode 0600) with the password, so it is on no command
# line (`ps`) and in no environment. AOF everysec: a Redis restart loses at most ~1 s of buffered
# progress.
render_redis_conf() {
    check_secret_shape MONETA_REDIS_PASSWORD "$MONETA_REDIS_PASSWORD"
    (
        umask 077
        cat >"$RUN_DIR/redis.conf" <<REDIS
port $MONETA_REDIS_PORT
bind 127.0.0.1
protected-mode yes
daemonize no
dir "$MONETA_DEV_DIR/redis"
appendonly yes
appendfsync everysec
save ""
requirepass $MONETA_REDIS_PASSWORD
REDIS
    )
    chmod 600 "$RUN_DIR/redis.conf"
}

# exporter_redis_port: the Redis whose INFO the exporter serves: the single one, or in cluster mode
# the first node only (MONETA_CLUSTER_PORT; a master until a failover).
exporter_redis_port() {
    if [[ "$STACK_MODE" == cluster ]]; then
        printf '%s' "$MONETA_CLUSTER_PORT"
    else
        printf '%s' "$MONETA_REDIS_PORT"
    fi
}

# write_registrations: $RUN_DIR/consul_services.json, what each process of the stack that does not
# register itself would register with its Consul agent (the body of PUT /v1/agent/service/register,
# docs/observability.md "Service discovery"). tools/stack_exporter serves it to Prometheus as
# http_sd, next to what registered itself with the exporter's agent endpoints: moneta does
# (CONSUL_HTTP_ADDR, docs/consul.md). Meta.metrics_port / metrics_path say where the metrics are
# when not on the service's own port and /metrics.
write_registrations() {
    local tmp="$RUN_DIR/consul_services.json.tmp"
    cat >"$tmp" <<JSON
[
  {"ID": "internal_api-$INTERNAL_API_PORT", "Name": "internal_api", "Address": "127.0.0.1",
   "Port": $INTERNAL_API_PORT, "Tags": ["prometheus"],
   "Meta": {"metrics_path": "/internal/metrics", "scrape_auth": "internal_api_token"}},
  {"ID": "nginx-$MONETA_EDGE_PORT", "Name": "nginx", "Address": "127.0.0.1", "Port": $MONETA_EDGE_PORT,
   "Tags": ["prometheus", "edge"],
   "Meta": {"metrics_port": "$MONETA_EXPORTER_PORT", "metrics_path": "/metrics/nginx"}},
  {"ID": "redis-$(exporter_redis_port)", "Name": "redis", "Address": "127.0.0.1", "Port": $(exporter_redis_port),
   "Tags": ["prometheus"], "Meta": {"metrics_port": "$MONETA_EXPORTER_PORT", "metrics_path": "/metrics/redis"}},
  {"ID": "stack_exporter-$MONETA_EXPORTER_PORT", "Name": "stack_exporter", "Address": "127.0.0.1",
   "Port": $MONETA_EXPORTER_PORT, "Tags": ["prometheus"]},
  {"ID": "prometheus-$MONETA_PROMETHEUS_PORT", "Name": "prometheus", "Address": "127.0.0.1",
   "Port": $MONETA_PROMETHEUS_PORT, "Tags": ["prometheus"]},
  {"ID": "alertmanager-$MONETA_ALERTMANAGER_PORT", "Name": "alertmanager", "Address": "127.0.0.1",
   "Port": $MONETA_ALERTMANAGER_PORT, "Tags": ["prometheus"]}
]
JSON
    mv "$tmp" "$RUN_DIR/consul_services.json"  # a refresh never reads half a file
}

# render_prometheus_conf: deploy/prometheus/prometheus.yml.template → $RUN_DIR/prometheus/
# prometheus.yml, then `promtool check config` (which also checks every rule file). The
# intervals and the rules directory can be moved for tests (MONETA_PROMETHEUS_SCRAPE_INTERVAL,
# _EVAL_INTERVAL, _SD_REFRESH, _RULES_DIR); the internal API's token is read from its secret file.
render_prometheus_conf() {
    local dir="$RUN_DIR/prometheus"
    mkdir -p "$dir"
    sed -e "s#@SCRAPE_INTERVAL@#${MONETA_PROMETHEUS_SCRAPE_INTERVAL:-15s}#" \
        -e "s#@EVALUATION_INTERVAL@#${MONETA_PROMETHEUS_EVAL_INTERVAL:-15s}#" \
        -e "s#@RULES_DIR@#${MONETA_PROMETHEUS_RULES_DIR:-$ROOT/deploy/prometheus/rules}#" \
        -e "s#@ALERTMANAGER@#127.0.0.1:$MONETA_ALERTMANAGER_PORT#" \
        -e "s#@SD_URL@#http://127.0.0.1:$MONETA_EXPORTER_PORT/sd#" \
        -e "s#@SD_REFRESH_INTERVAL@#${MONETA_PROMETHEUS_SD_REFRESH:-30s}#" \
        -e "s#@INTERNAL_API_TOKEN_FILE@#$SECRETS_DIR/internal_api_token#" \
        "$ROOT/deploy/prometheus/prometheus.yml.template" >"$dir/prometheus.yml"
    promtool check config "$dir/prometheus.yml" >"$dir/promtool.out" 2>&1 \
        || { cat "$dir/promtool.out" >&2; die "promtool check config failed on $dir/prometheus.yml"; }
}

# Environment of each process (scrub_env): its own secrets and nothing else's.
ENV_REDIS=""                                     # its password is in redis.conf
ENV_NGINX=""                                     # its secrets are in its rendered config
ENV_INTERNAL_API="INTERNAL_API_TOKEN"
ENV_EXPORTER="MONETA_REDIS_PASSWORD"             # to read Redis INFO
ENV_SSHCA="SSHCA_* SSHCA_CA_PASSPHRASE SSHCA_JWT_SECRET SSHCA_HOST_TOKEN !SSHCA_TOKEN"  # its keys' passphrase, the IdP and host tokens
ENV_PROMETHEUS=""                                # the internal API token: a credentials_file
ENV_ALERTMANAGER=""
# moneta: its MONETA_* overrides (lib.sh, the user's), its own secrets, never nginx's.
ENV_MONETA="MONETA_* CONSUL_HTTP_ADDR INTERNAL_API_PORT INTERNAL_API_TOKEN MONETA_JWT_SECRET MONETA_DRM_SITE_KEY
    MONETA_DRM_ACCESS_KEY MONETA_REDIS_PASSWORD MONETA_EDGE_TOKEN MONETA_ADMIN_TOKEN MONETA_SESSION_KEY
    MONETA_CDN_KEY_FILE !MONETA_CDN_ORIGIN_SECRET"

load_stack_secrets() {
    load_secret jwt_hs256 MONETA_JWT_SECRET
    load_secret internal_api_token INTERNAL_API_TOKEN
    load_secret drm_site_key MONETA_DRM_SITE_KEY 16
    load_secret drm_access_key MONETA_DRM_ACCESS_KEY 16
    load_secret redis_password MONETA_REDIS_PASSWORD
    load_secret edge_token MONETA_EDGE_TOKEN
    load_secret admin_token MONETA_ADMIN_TOKEN
    load_secret session_key MONETA_SESSION_KEY   # signs session ids (docs/security.md)
    load_secret cdn_origin_secret MONETA_CDN_ORIGIN_SECRET
    load_cdn_key
    load_secret sshca_jwt_hs256 SSHCA_JWT_SECRET
    load_secret sshca_ca_passphrase SSHCA_CA_PASSPHRASE
    load_secret sshca_host_token SSHCA_HOST_TOKEN
}

# start_sshca: the SSH CA (docs/sshca.md) with its store and CA keys under the dev dir; the keys
# are made (encrypted with the sshca_ca_passphrase secret) on the first start.
start_sshca() {
    mkdir -p "$MONETA_DEV_DIR/sshca"
    SSHCA_DB="$MONETA_DEV_DIR/sshca/sshca.sqlite" SSHCA_CA_DIR="$MONETA_DEV_DIR/sshca/keys" \
        SSHCA_POLICY="${SSHCA_POLICY:-$ROOT/deploy/sshca/policy.json}" \
        start_bg sshca sshca-server "$SSHCA_PORT" "$ENV_SSHCA" "$BIN_SSHCA" \
        --config "$ROOT/services/sshca/config/sshca.json" --port "$SSHCA_PORT" --init
    wait_http "http://127.0.0.1:$SSHCA_PORT/healthz" 30 sshca
}

# start_demo_sshd: a stock sshd on SSHCA_DEMO_SSH_PORT (loopback) set up the way docs/sshca.md tells
# a host to be, with the CLI itself: it trusts the CA's user key, reads the CA's KRL, presents a
# host certificate, and lets the current user in with a certificate for zone-video-dev.
start_demo_sshd() {
    local d="$MONETA_DEV_DIR/sshd" user
    user="$(id -un)"
    mkdir -p "$d/principals"
    chmod 700 "$d"
    [[ -s "$d/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N '' -C "moneta demo host" -f "$d/ssh_host_ed25519_key"
    local cli_env=(SSHCA_URL="http://127.0.0.1:$SSHCA_PORT" SSHCA_HOME="$d/cli")
    env "${cli_env[@]}" "$BIN_SSHCA_CLI" host setup --dir "$d" >/dev/null
    env "${cli_env[@]}" SSHCA_HOST_TOKEN="$SSHCA_HOST_TOKEN" "$BIN_SSHCA_CLI" host renew \
        --key "$d/ssh_host_ed25519_key.pub" --hostname 127.0.0.1 --hostname localhost >/dev/null
    curl -fsS "http://127.0.0.1:$SSHCA_PORT/v1/ca/host.pub" >"$d/known_hosts"
    echo zone-video-dev >"$d/principals/$user"
    cat >"$d/sshd_config" <<SSHD
Port $SSHCA_DEMO_SSH_PORT
ListenAddress 127.0.0.1
HostKey $d/ssh_host_ed25519_key
HostCertificate $d/ssh_host_ed25519_key-cert.pub
PidFile $d/sshd.pid
UsePAM no
StrictModes no
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel VERBOSE
TrustedUserCAKeys $d/user_ca.pub
AuthorizedPrincipalsFile $d/principals/%u
RevokedKeys $d/revoked.krl
SSHD
    # As root sshd's privilege separation needs its compiled-in /run/sshd (made at boot by the
    # package's service, which a container may not have run).
    [[ $EUID -ne 0 ]] || mkdir -p /run/sshd
    start_bg demo_sshd sshd "$SSHCA_DEMO_SSH_PORT" "" /usr/sbin/sshd -D -e -f "$d/sshd_config"
    local i
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$SSHCA_DEMO_SSH_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    die "demo sshd did not listen on $SSHCA_DEMO_SSH_PORT within 10s (see $LOG_DIR/demo_sshd.log)"
}

# service_program <name>: the program a pid file's name stands for (proc_alive's check).
service_program() {
    case "$1" in
        redis | redis-cluster-*) echo redis-server ;;
        sshca) echo sshca-server ;;
        demo_sshd) echo sshd ;;
        alertmanager) echo prometheus-alertmanager ;;
        moneta_2) echo moneta ;;
        *) echo "$1" ;;
    esac
}

# stack_running: 0 when a pid file in the run dir names a live process.
stack_running() {
    local pidfile name
    for pidfile in "$RUN_DIR"/*.pid; do
        [[ -e "$pidfile" ]] || continue
        name="$(basename "$pidfile" .pid)"
        pid_alive "$pidfile" "$(service_program "$name")" && return 0
    done
    return 1
}

# recorded_mode: the mode the stack in the run dir was started in (single when none is recorded).
recorded_mode() {
    local mode=""
    [[ -s "$MODE_FILE" ]] && read -r mode <"$MODE_FILE"
    printf '%s' "${mode:-single}"
}

# set_stack_mode <mode>: a stack still running in the other mode is refused (its moneta would
# stay on its Redis); else the mode is recorded for down and status.
set_stack_mode() {
    local want="$1" have
    have="$(recorded_mode)"
    if [[ "$have" != "$want" ]] && stack_running; then
        die "the stack runs in $have mode: ./dev down first, then ./dev up$([[ "$want" == cluster ]] && echo " --cluster")"
    fi
    STACK_MODE="$want"
    mkdir -p "$RUN_DIR"
    echo "$want" >"$MODE_FILE"
}

# start_moneta_instance <name> <port> <admin port>: one moneta on its own ports (start_bg, its
# environment only); in cluster mode with MONETA_REDIS_MODE=cluster and the nodes as seeds. (A
# function's prefix assignments hold, exported, for its call only.)
start_moneta_instance() {
    local name="$1" port="$2" admin_port="$3"
    local moneta_cmd=("$BIN_MONETA" --config "$ROOT/services/moneta/config/moneta.json")
    if [[ "$STACK_MODE" == cluster ]]; then
        MONETA_PORT="$port" MONETA_ADMIN_PORT="$admin_port" MONETA_REDIS_MODE=cluster \
            MONETA_REDIS_NODES="$(cluster_seeds)" start_bg "$name" moneta "$port" "$ENV_MONETA" "${moneta_cmd[@]}"
    else
        MONETA_PORT="$port" MONETA_ADMIN_PORT="$admin_port" start_bg "$name" moneta "$port" "$ENV_MONETA" "${moneta_cmd[@]}"
    fi
    wait_http "http://127.0.0.1:$port/healthz" 30 "$name"
}

stack_up() {
    local mode=single
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --cluster) mode=cluster; shift ;;
            *) die "up: unknown option $1 (usage: ./dev up [--cluster])" ;;
        esac
    done
    set_stack_mode "$mode"
    ensure_packages
    build_release
    mkdir -p "$RUN_DIR" "$LOG_DIR" "$MONETA_DEV_DIR/redis" "$MONETA_DEV_DIR/data"
    load_stack_secrets

    if [[ "$STACK_MODE" == cluster ]]; then
        cluster_up
    else
        render_redis_conf
        start_bg redis redis-server "$MONETA_REDIS_PORT" "$ENV_REDIS" redis-server "$RUN_DIR/redis.conf"
    fi
    start_bg internal_api internal_api "$INTERNAL_API_PORT" "$ENV_INTERNAL_API" "$BIN_INTERNAL_API" \
        --config "$ROOT/services/internal_api/config/internal_api.json" \
        --port "$INTERNAL_API_PORT" --db "$MONETA_DEV_DIR/data/internal_api.sqlite" \
        --fixtures "$MONETA_FIXTURES"
    wait_http "http://127.0.0.1:$INTERNAL_API_PORT/healthz" 60 internal_api
    # The exporter before moneta: it is also the Consul agent moneta registers with (docs/consul.md).
    start_exporter
    export CONSUL_HTTP_ADDR="127.0.0.1:$MONETA_EXPORTER_PORT"
    start_moneta_instance moneta "$MONETA_PORT" "$MONETA_ADMIN_PORT"
    if [[ "$STACK_MODE" == cluster ]]; then
        start_moneta_instance moneta_2 "$MONETA_PORT_2" "${MONETA_ADMIN_PORT_2:?}"
        local MONETA_INSTANCES=2  # render_nginx_conf: both instances in the upstream
    fi
    render_nginx_conf
    start_bg nginx nginx "$MONETA_EDGE_PORT" "$ENV_NGINX" nginx -p "$RUN_DIR/nginx" \
        -c "$RUN_DIR/nginx/nginx.conf" -e "$RUN_DIR/nginx/error.log"
    wait_http "http://127.0.0.1:$MONETA_EDGE_PORT/readyz" 30 "the stack (through nginx)"
    start_observability
    start_sshca
    start_demo_sshd

    local token redis_line moneta_lines exporter_redis="/metrics/redis"
    token="$(MONETA_JWT_SECRET="$MONETA_JWT_SECRET" "$BIN_JWT_TOOL" sign --secret-env MONETA_JWT_SECRET \
        --sub a_1 --pid p_1 --ttl 3600 --iss moneta-dev --aud moneta)"
    moneta_lines="  moneta         http://127.0.0.1:$MONETA_PORT   admin http://127.0.0.1:$MONETA_ADMIN_PORT/metrics"
    redis_line="  redis          127.0.0.1:$MONETA_REDIS_PORT (password: $SECRETS_DIR/redis_password)"
    if [[ "$STACK_MODE" == cluster ]]; then
        moneta_lines+=$'\n'"  moneta (2nd)   http://127.0.0.1:$MONETA_PORT_2   admin http://127.0.0.1:$MONETA_ADMIN_PORT_2/metrics"
        moneta_lines+=$'\n'"                 both MONETA_REDIS_MODE=cluster, behind nginx"
        redis_line="  redis cluster  $(cluster_seeds | tr ',' ' ')"
        redis_line+=$'\n'"                 3 masters + 3 replicas, node timeout $CLUSTER_NODE_TIMEOUT_MS ms (password: $SECRETS_DIR/redis_password);"
        redis_line+=$'\n'"                 roles and slots: ./dev status"
        exporter_redis="/metrics/redis (node $MONETA_CLUSTER_PORT only)"
    fi
    cat <<INFO

Moneta is up$([[ "$STACK_MODE" == cluster ]] && echo " (Redis Cluster, two moneta instances)").
  edge (nginx)   http://127.0.0.1:$MONETA_EDGE_PORT
$moneta_lines
  internal-api   http://127.0.0.1:$INTERNAL_API_PORT
$redis_line
  prometheus     http://127.0.0.1:$MONETA_PROMETHEUS_PORT   (targets: /targets, alerts: /alerts)
  alertmanager   http://127.0.0.1:$MONETA_ALERTMANAGER_PORT
  exporter       http://127.0.0.1:$MONETA_EXPORTER_PORT/metrics/nginx, $exporter_redis, /sd
  demo sshd      127.0.0.1:$SSHCA_DEMO_SSH_PORT (trusts the SSH CA; principal zone-video-dev for $(id -un))
  sshca          http://127.0.0.1:$SSHCA_PORT   (SSH CA: /v1/ca/user.pub, /v1/krl; store and keys in $MONETA_DEV_DIR/sshca/)
  logs           $LOG_DIR/   stop with: ./dev down
  secrets        $SECRETS_DIR/ (HS256 dev secret: jwt_hs256, or \$MONETA_JWT_SECRET)

A token for account a_1 / profile p_1 (valid 1 h; more with ./dev token --sub a_1 --pid p_1):
  TOKEN=$token

Start playback through nginx (expect HTTP 201):
  curl -i -X POST http://127.0.0.1:$MONETA_EDGE_PORT/v1/playback/sessions \\
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \\
    -d '{"content_id":"m_1","device":{"id":"d-1","type":"web","name":"Laptop"},"capabilities":{"protocols":["dash"],"drm":["widevine"],"video_codecs":["avc"],"max_height":1080}}'

Act as the CDN (nginx then believes CloudFront-Viewer-Country; docs/edge.md "CDN trust"):
  -H "X-Origin-Verify: \$(cat $SECRETS_DIR/cdn_origin_secret)" -H 'CloudFront-Viewer-Country: JP'

Admin (moneta's admin port, token in $SECRETS_DIR/admin_token):
  curl -X PUT http://127.0.0.1:$MONETA_ADMIN_PORT/admin/breakers/internal_api.account \\
    -H "Authorization: Bearer \$(cat $SECRETS_DIR/admin_token)" -d '{"mode":"forced_open"}'

Then (README "Try it"): heartbeat, list, kick and stop with the session_id it returns.

SSH CA (docs/sshca.md): log in with a demo identity (group video-eng), then ssh into the demo
sshd (port $SSHCA_DEMO_SSH_PORT), which trusts only the CA:
  export SSHCA_TOKEN=\$(./dev token --sshca --sub alice --groups video-eng)
  ./dev sshca login
  ./dev sshca status
  ./dev sshca ssh -p $SSHCA_DEMO_SSH_PORT -o UserKnownHostsFile=$MONETA_DEV_DIR/sshd/known_hosts $(id -un)@127.0.0.1 echo hello
  ./dev sshca logout
INFO
}

# stop_pid <name> <program> <signal> <seconds>: signal the process our pid file names (only when it
# is a live <program>: never a reused pid), wait until it is gone or a zombie, then KILL.
stop_pid() {
    local name="$1" program="$2" sig="$3" seconds="$4"
    local pidfile="$RUN_DIR/$name.pid"
    if ! pid_alive "$pidfile" "$program"; then
        rm -f "$pidfile"
        return 0
    fi
    local pid started
    read -r pid started <"$pidfile"
    log "stopping $name (pid $pid)"
    kill "-$sig" "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < seconds * 10; i++)); do
        if ! proc_alive "$pid" "$program" "$started" && ! proc_exiting "$pid" "$started"; then
            rm -f "$pidfile"
            return 0
        fi
        sleep 0.1
    done
    log "$name did not stop within ${seconds}s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# start_exporter: the exporter (nginx + Redis metrics; http_sd from the registrations file and from
# what registers itself with its Consul agent endpoints, --consul-agent).
start_exporter() {
    write_registrations
    start_bg stack_exporter stack_exporter "$MONETA_EXPORTER_PORT" "$ENV_EXPORTER" "$BIN_EXPORTER" \
        --port "$MONETA_EXPORTER_PORT" --redis-port "$(exporter_redis_port)" \
        --nginx-status-port "$MONETA_EDGE_STATUS_PORT" --registrations "$RUN_DIR/consul_services.json" \
        --consul-agent
    wait_http "http://127.0.0.1:$MONETA_EXPORTER_PORT/sd" 30 stack_exporter
}

# start_observability: Alertmanager, then Prometheus (docs/observability.md). Data under
# $MONETA_DEV_DIR.
start_observability() {
    mkdir -p "$MONETA_DEV_DIR/prometheus" "$MONETA_DEV_DIR/alertmanager"
    # --cluster.listen-address=: no gossip port (9094) for a single dev instance.
    start_bg alertmanager prometheus-alertmanager "$MONETA_ALERTMANAGER_PORT" "$ENV_ALERTMANAGER" \
        prometheus-alertmanager --config.file="$ROOT/deploy/prometheus/alertmanager.yml" \
        --storage.path="$MONETA_DEV_DIR/alertmanager" --cluster.listen-address= \
        --web.listen-address="127.0.0.1:$MONETA_ALERTMANAGER_PORT" \
        --web.external-url="http://127.0.0.1:$MONETA_ALERTMANAGER_PORT/"
    wait_http "http://127.0.0.1:$MONETA_ALERTMANAGER_PORT/-/ready" 30 alertmanager
    render_prometheus_conf
    start_bg prometheus prometheus "$MONETA_PROMETHEUS_PORT" "$ENV_PROMETHEUS" prometheus \
        --config.file="$RUN_DIR/prometheus/prometheus.yml" --storage.tsdb.path="$MONETA_DEV_DIR/prometheus" \
        --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$MONETA_PROMETHEUS_PORT" \
        --web.external-url="http://127.0.0.1:$MONETA_PROMETHEUS_PORT/" --enable-feature=exemplar-storage
    wait_http "http://127.0.0.1:$MONETA_PROMETHEUS_PORT/-/ready" 60 prometheus
}

stack_down() {
    [[ $# -eq 0 ]] || die "down: no options (it stops whatever the run dir's pid files name)"
    # Order: Prometheus first (it would alert on everything else going away), the edge (no new
    # traffic), then moneta (drains, flushes progress; both instances at once in cluster mode),
    # then its dependencies. Whichever mode ran: what is not running is skipped.
    stop_pid demo_sshd sshd TERM 15
    stop_pid sshca sshca-server TERM 15
    stop_pid prometheus prometheus TERM 15
    stop_pid alertmanager prometheus-alertmanager TERM 15
    stop_pid nginx nginx QUIT 15
    stop_pid moneta_2 moneta TERM 30 &
    local second=$!
    stop_pid moneta moneta TERM 30
    wait "$second"
    stop_pid stack_exporter stack_exporter TERM 15  # after moneta: its Consul agent (deregister)
    stop_pid internal_api internal_api TERM 15
    stop_pid redis redis-server TERM 15
    cluster_down
    rm -f "$MODE_FILE"
    log "stopped"
}

stack_status() {
    [[ $# -eq 0 ]] || die "status: no options"
    local name names=(nginx moneta internal_api redis stack_exporter prometheus alertmanager sshca demo_sshd)
    STACK_MODE="$(recorded_mode)"
    [[ "$STACK_MODE" == cluster ]] && names=(nginx moneta moneta_2 internal_api stack_exporter prometheus alertmanager sshca demo_sshd)
    for name in "${names[@]}"; do
        if pid_alive "$RUN_DIR/$name.pid" "$(service_program "$name")"; then
            printf '%-13s running (pid %s)\n' "$name" "$(pidfile_pid "$RUN_DIR/$name.pid")"
        else
            printf '%-13s stopped\n' "$name"
        fi
    done
    if [[ "$STACK_MODE" == cluster ]]; then
        load_secret redis_password MONETA_REDIS_PASSWORD
        cluster_status
    fi
}

print_token() {
    [[ -x "$BIN_JWT_TOOL" ]] || build_release
    local sub="" pid=p_1 ttl=3600 alg=HS256 sshca=0 groups=""
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --sub) sub="$2"; shift 2 ;;
            --pid) pid="$2"; shift 2 ;;
            --ttl) ttl="$2"; shift 2 ;;
            --alg) alg="$2"; shift 2 ;;
            --sshca) sshca=1; shift ;;
            --groups) groups="$2"; shift 2 ;;
            *) die "token: unknown option $1" ;;
        esac
    done
    [[ "$alg" == HS256 ]] || die "token: the dev stack signs HS256 only (got $alg)"
    if [[ $sshca -eq 1 ]]; then
        # The SSH CA's identity token, as the company IdP would issue it (docs/sshca.md "Identity").
        [[ -n "$sub" ]] || die "token --sshca: --sub USER is required"
        load_secret sshca_jwt_hs256 SSHCA_JWT_SECRET
        SSHCA_JWT_SECRET="$SSHCA_JWT_SECRET" "$BIN_JWT_TOOL" sign --secret-env SSHCA_JWT_SECRET --kid "" \
            --sub "$sub" --ttl "$ttl" --aud sshca ${groups:+--groups "$groups"}
        return
    fi
    [[ -z "$groups" ]] || die "token: --groups is for --sshca tokens"
    load_secret jwt_hs256 MONETA_JWT_SECRET
    MONETA_JWT_SECRET="$MONETA_JWT_SECRET" "$BIN_JWT_TOOL" sign --secret-env MONETA_JWT_SECRET \
        --sub "${sub:-a_1}" --pid "$pid" --ttl "$ttl" --iss moneta-dev --aud moneta
}

# ./dev sshca ARGS: the SSH CA's CLI against the dev stack's server (SSHCA_URL overrides).
run_sshca_cli() {
    [[ -x "$BIN_SSHCA_CLI" ]] || build_release >&2
    SSHCA_URL="${SSHCA_URL:-http://127.0.0.1:$SSHCA_PORT}" exec "$BIN_SSHCA_CLI" "$@"
}
