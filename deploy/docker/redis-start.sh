#!/bin/bash
# The redis image's command (docs/containers.md "Redis"): the dev stack's settings
# (scripts/stack.sh render_redis_conf) in /tmp/redis.conf (tmpfs, mode 0600, so the password is on
# no command line), data and the append-only file under the /data volume, AOF everysec.
# MONETA_REDIS_PASSWORD (entrypoint.sh loads it from /run/secrets; unset = no AUTH, then only
# loopback clients are served: protected-mode), MONETA_REDIS_PORT (default 6380).
set -euo pipefail
port="${MONETA_REDIS_PORT:-6380}"
[[ "$port" =~ ^[0-9]{1,5}$ ]] || { echo "redis: bad MONETA_REDIS_PORT" >&2; exit 78; }
umask 077
{
    echo "port $port"
    echo "bind * -::*"
    echo "protected-mode yes"
    echo "daemonize no"
    echo 'dir "/data"'
    echo "appendonly yes"
    echo "appendfsync everysec"
    echo 'save ""'
    echo 'logfile ""'
    if [[ -n "${MONETA_REDIS_PASSWORD:-}" ]]; then
        [[ "$MONETA_REDIS_PASSWORD" =~ ^[A-Za-z0-9_-]{16,256}$ ]] \
            || { echo "redis: MONETA_REDIS_PASSWORD must be 16..256 characters of [A-Za-z0-9_-]" >&2; exit 78; }
        echo "requirepass $MONETA_REDIS_PASSWORD"
    fi
} >/tmp/redis.conf
unset MONETA_REDIS_PASSWORD
exec redis-server /tmp/redis.conf
