# shellcheck shell=bash
# Shared helpers for ./dev, .ci/run and bench/run.sh. Sourced, not executed.

: "${MONETA_DEV_DIR:=$ROOT/.dev}"
: "${MONETA_EDGE_PORT:=8080}"
: "${MONETA_PORT:=8081}"
: "${MONETA_ADMIN_PORT:=9091}"
: "${MONETA_PORT_2:=8091}"               # ./dev up --cluster: the second moneta instance
: "${MONETA_ADMIN_PORT_2:=9092}"
: "${INTERNAL_API_PORT:=8082}"
: "${MONETA_REDIS_PORT:=6380}"
: "${MONETA_CLUSTER_PORT:=7000}"         # ./dev up --cluster: nodes on this port .. +5
: "${SSHCA_PORT:=8083}"
: "${SSHCA_DEMO_SSH_PORT:=2222}"          # ./dev up's demo sshd (trusts the SSH CA), loopback only
: "${MONETA_EDGE_STATUS_PORT:=8084}"      # nginx stub_status, loopback only
: "${MONETA_EXPORTER_PORT:=9113}"         # tools/stack_exporter: nginx + Redis metrics, http_sd
: "${MONETA_PROMETHEUS_PORT:=9090}"
: "${MONETA_ALERTMANAGER_PORT:=9093}"
: "${MONETA_FIXTURES:=$ROOT/fixtures/demo.json}"
: "${MONETA_START_RATE_PER_MIN:=60}"
: "${MONETA_LEASE_SEC:=90}"
: "${MONETA_HEARTBEAT_SEC:=30}"
: "${MONETA_PROGRESS_FLUSH_MS:=5000}"
: "${MONETA_BUILD_DIR:=$ROOT/build}"
: "${MONETA_JOBS:=$(nproc)}"
export MONETA_DEV_DIR MONETA_EDGE_PORT MONETA_PORT MONETA_ADMIN_PORT MONETA_PORT_2 MONETA_ADMIN_PORT_2 \
    INTERNAL_API_PORT MONETA_REDIS_PORT MONETA_CLUSTER_PORT SSHCA_PORT MONETA_EDGE_STATUS_PORT \
    MONETA_EXPORTER_PORT MONETA_PROMETHEUS_PORT MONETA_ALERTMANAGER_PORT MONETA_FIXTURES \
    MONETA_START_RATE_PER_MIN MONETA_LEASE_SEC MONETA_HEARTBEAT_SEC MONETA_PROGRESS_FLUSH_MS

# Debian 12 packages the project builds, tests and runs with (no vendored libraries).
MONETA_PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config git curl ca-certificates openssl
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libssl-dev libhiredis-dev libsqlite3-dev sqlite3 libfmt-dev libspdlog-dev libcli11-dev
    libgtest-dev libgmock-dev libbenchmark-dev libprotobuf-dev protobuf-compiler
    redis-server nginx libnginx-mod-http-headers-more-filter wrk prometheus prometheus-alertmanager
    openssh-client openssh-server
    clang-14 libfuzzer-14-dev libclang-rt-14-dev
    shellcheck yamllint python3-yaml
    podman runc debootstrap
)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Installs whatever of MONETA_PACKAGES is missing (only when root, as on a fresh machine/CI).
ensure_packages() {
    local missing=()
    local p
    for p in "${MONETA_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    # tests/deploy/k8s renders deploy/k8s with `kubectl kustomize`. Debian's kubernetes-client
    # (1.20, kustomize v2.0.3) only when no kubectl is on PATH: dpkg refuses it over another
    # vendor's kubectl (e.g. the Google Cloud SDK's), and the manifests render the same on both.
    command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        die "missing packages: ${missing[*]} (run as root once, or: sudo apt-get install ${missing[*]})"
    fi
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # nginx, redis and openssh-server start their system services from their postinst; in a
    # container without init that start fails (and fails the install), elsewhere it takes ports
    # (sshd: 22) we never asked for. A policy-rc.d that forbids every start (exit 101, Debian's
    # policy interface, read by invoke-rc.d and deb-systemd-invoke) is in place for the install
    # only, unless the machine already has its own.
    local policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    [[ $added_policy -eq 1 ]] && rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get install failed ($rc): ${missing[*]}"
    # The packaged services must not hold our ports or pid files (should a policy have let them start).
    # Not sshd: it listens on 22, which nothing here uses, and stopping it could cut off the very
    # session running this on a remote machine.
    service nginx stop >/dev/null 2>&1 || true
    service redis-server stop >/dev/null 2>&1 || true
    service prometheus stop >/dev/null 2>&1 || true
    service prometheus-alertmanager stop >/dev/null 2>&1 || true
}

# configure_build <dir> <cmake args...>: configure once (idempotent), then build.
build_tree() {
    local dir="$1"
    shift
    if [[ ! -f "$dir/build.ninja" ]]; then
        cmake -S "$ROOT" -B "$dir" -G Ninja "$@" >/dev/null
    fi
}
