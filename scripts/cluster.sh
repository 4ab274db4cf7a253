# shellcheck shell=bash
# ./dev up --cluster: a Redis Cluster of Debian's redis-server, 3 masters + 3 replicas on
# 127.0.0.1:MONETA_CLUSTER_PORT .. MONETA_CLUSTER_PORT+5 (docs/deploy.md "Cluster in the dev
# stack"). Sourced by scripts/stack.sh, whose start_bg / stop_pid / pid files it uses: each node is
# the process "redis-cluster-<port>" (pid file $RUN_DIR/redis-cluster-<port>.pid, log
# $LOG_DIR/redis-cluster-<port>.log, data and nodes.conf in $MONETA_DEV_DIR/redis-cluster/<port>).

CLUSTER_NODES=6
# How long a master may be unreachable before its replica is elected in its place (Redis's default
# is 15 s; 2 s makes a failover watchable in the dev stack).
CLUSTER_NODE_TIMEOUT_MS="${MONETA_CLUSTER_NODE_TIMEOUT_MS:-2000}"

cluster_ports() {
    local i
    for ((i = 0; i < CLUSTER_NODES; i++)); do
        echo $((MONETA_CLUSTER_PORT + i))
    done
}

# cluster_seeds: moneta's MONETA_REDIS_NODES, "127.0.0.1:7000,127.0.0.1:7001,...".
cluster_seeds() {
    local port out=""
    for port in $(cluster_ports); do
        out+="${out:+,}127.0.0.1:$port"
    done
    printf '%s' "$out"
}

# cluster_cli <port> <args...>: redis-cli to one node, the password from the environment (never on
# a command line), at most 2 s (a node in DEBUG SLEEP would hold it forever). A node that does not
# answer prints nothing and is no error (set -e: a stopped node is a state to show, not a failure).
cluster_cli() {
    local port="$1"
    shift
    { REDISCLI_AUTH="$MONETA_REDIS_PASSWORD" timeout 2 redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" "$@" \
        2>/dev/null || true; } | tr -d '\r'
}

# cluster_info <port> <field>: one field of the node's CLUSTER INFO ("" when it does not answer).
cluster_info() {
    cluster_cli "$1" CLUSTER INFO | awk -F: -v k="$2" '$1 == k { print $2 }'
}

# render_cluster_conf <port>: $RUN_DIR/redis-cluster/<port>.conf (0600: it holds the password),
# the single Redis's settings (AOF everysec, no RDB) plus cluster mode; masterauth so a replica
# (or a master demoted by a failover) can sync from its master.
render_cluster_conf() {
    local port="$1" conf="$RUN_DIR/redis-cluster/$1.conf"
    check_secret_shape MONETA_REDIS_PASSWORD "$MONETA_REDIS_PASSWORD"
    mkdir -p "$RUN_DIR/redis-cluster" "$MONETA_DEV_DIR/redis-cluster/$port"
    (
        umask 077
        cat >"$conf" <<REDIS
port $port
bind 127.0.0.1
protected-mode yes
daemonize no
dir "$MONETA_DEV_DIR/redis-cluster/$port"
appendonly yes
appendfsync everysec
save ""
requirepass $MONETA_REDIS_PASSWORD
masterauth $MONETA_REDIS_PASSWORD
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $CLUSTER_NODE_TIMEOUT_MS
cluster-require-full-coverage yes
# A replica's first sync starts at once (the default waits 5 s for more replicas).
repl-diskless-sync-delay 0
# DEBUG SLEEP from loopback: pausing a master is one way to watch a failover.
enable-debug-command local
REDIS
    )
    chmod 600 "$conf"
}

# cluster_up: the six nodes (each started unless running), the cluster formed when it never was
# (redis-cli --cluster create; a formed cluster keeps its nodes.conf and is never created again),
# then a bounded wait until every node says cluster_state:ok.
cluster_up() {
    local port i
    for port in $(cluster_ports); do
        render_cluster_conf "$port"
        start_bg "redis-cluster-$port" redis-server "$port" "$ENV_REDIS" redis-server "$RUN_DIR/redis-cluster/$port.conf"
    done
    for port in $(cluster_ports); do
        for ((i = 0; i < 300; i++)); do
            [[ "$(cluster_cli "$port" PING)" == PONG ]] && break
            sleep 0.1
        done
        [[ $i -lt 300 ]] || die "redis-cluster-$port did not answer PING within 30 s (see $LOG_DIR/redis-cluster-$port.log)"
    done
    cluster_form
    cluster_wait_ok 60
}

# cluster_form: create the cluster when no node has a slot and none knows another; leave a formed
# one alone; refuse anything in between (a create that failed half way).
cluster_form() {
    local port assigned known fresh=0 formed=0
    for port in $(cluster_ports); do
        assigned="$(cluster_info "$port" cluster_slots_assigned)"
        known="$(cluster_info "$port" cluster_known_nodes)"
        [[ "$assigned" == 0 && "$known" == 1 ]] && fresh=$((fresh + 1))
        [[ "$assigned" == 16384 && "$known" == "$CLUSTER_NODES" ]] && formed=$((formed + 1))
    done
    if [[ $formed -eq $CLUSTER_NODES ]]; then
        log "redis cluster already formed (nodes.conf kept in $MONETA_DEV_DIR/redis-cluster/<port>)"
        return 0
    fi
    [[ $fresh -eq $CLUSTER_NODES ]] \
        || die "the redis cluster is half formed ($formed of $CLUSTER_NODES nodes see it whole): ./dev down," \
            "then rm -rf $MONETA_DEV_DIR/redis-cluster and ./dev up --cluster again"
    local addresses=()
    for port in $(cluster_ports); do
        addresses+=("127.0.0.1:$port")
    done
    log "forming the redis cluster: 3 masters + 3 replicas (redis-cli --cluster create)"
    REDISCLI_AUTH="$MONETA_REDIS_PASSWORD" redis-cli --no-auth-warning --cluster create "${addresses[@]}" \
        --cluster-replicas 1 --cluster-yes >>"$LOG_DIR/redis-cluster-create.log" 2>&1 \
        || die "redis-cli --cluster create failed (see $LOG_DIR/redis-cluster-create.log)"
}

# cluster_wait_ok <seconds>: every node answers cluster_state:ok with all 16384 slots served.
cluster_wait_ok() {
    local seconds="$1" i port ok
    for ((i = 0; i < seconds * 10; i++)); do
        ok=1
        for port in $(cluster_ports); do
            if [[ "$(cluster_info "$port" cluster_state)" != ok || "$(cluster_info "$port" cluster_slots_ok)" != 16384 ]]; then
                ok=0
                break
            fi
        done
        [[ $ok -eq 1 ]] && return 0
        sleep 0.1
    done
    die "the redis cluster did not reach cluster_state:ok on every node within ${seconds}s (./dev status; $LOG_DIR/redis-cluster-*.log)"
}

# cluster_node_line <port>: the node's own view (CLUSTER NODES, its "myself" line): "master
# slots 0-5460", "replica of 7001", or "no answer".
cluster_node_line() {
    local nodes
    nodes="$(cluster_cli "$1" CLUSTER NODES)"
    if [[ -z "$nodes" ]]; then
        echo "no answer"
        return 0
    fi
    # "id ip:port@cport flags master-id ping pong epoch link slot..."
    awk '{ addr = $2; sub(/@.*/, "", addr); sub(/.*:/, "", addr); port[$1] = addr }
        $3 ~ /myself/ { me_flags = $3; me_master = $4; slots = ""; for (i = 9; i <= NF; i++) slots = slots " " $i }
        END {
            if (me_flags ~ /master/) printf "master   slots%s\n", (slots == "" ? " none" : slots)
            else printf "replica  of %s\n", (me_master in port ? port[me_master] : me_master)
        }' <<<"$nodes"
}

# cluster_status: the cluster's state as the first node that answers sees it, then one line per
# node: its process and its own view of its role and slots.
cluster_status() {
    local port state="" from=""
    for port in $(cluster_ports); do
        state="$(cluster_info "$port" cluster_state)"
        [[ -n "$state" ]] && from="$port" && break
    done
    printf '%-13s cluster_state:%s (seen by %s; nodes 127.0.0.1:%s-%s, node timeout %s ms)\n' redis-cluster \
        "${state:-unknown}" "${from:-no node}" "$MONETA_CLUSTER_PORT" "$((MONETA_CLUSTER_PORT + CLUSTER_NODES - 1))" \
        "$CLUSTER_NODE_TIMEOUT_MS"
    local pidfile proc
    for port in $(cluster_ports); do
        pidfile="$RUN_DIR/redis-cluster-$port.pid"
        if pid_alive "$pidfile" redis-server; then
            proc="running (pid $(pidfile_pid "$pidfile"))"
        else
            proc="stopped"
        fi
        printf '  %-11s %-20s %s\n' "$port" "$proc" "$(cluster_node_line "$port")"
    done
}

# cluster_down: every node whose pid file is in the run dir (whatever MONETA_CLUSTER_PORT is now),
# all at once: each saves its AOF on SIGTERM.
cluster_down() {
    local pidfile stops=()
    for pidfile in "$RUN_DIR"/redis-cluster-*.pid; do
        [[ -e "$pidfile" ]] || continue
        stop_pid "$(basename "$pidfile" .pid)" redis-server TERM 15 &
        stops+=("$!")
    done
    [[ ${#stops[@]} -eq 0 ]] || wait "${stops[@]}"
}
