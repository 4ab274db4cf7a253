#!/bin/bash
# HEALTHCHECK of the redis image: PING answers PONG (the password, if any, from the same secret
# file the server was started with, passed to redis-cli in REDISCLI_AUTH, never on a command line).
set -u
file="${MONETA_SECRETS_DIR:-/run/secrets}/MONETA_REDIS_PASSWORD"
if [[ -z "${MONETA_REDIS_PASSWORD:-}" && -r "$file" ]]; then
    MONETA_REDIS_PASSWORD="$(<"$file")"
fi
[[ -z "${MONETA_REDIS_PASSWORD:-}" ]] || export REDISCLI_AUTH="$MONETA_REDIS_PASSWORD"
reply="$(timeout 3 redis-cli --no-auth-warning -h 127.0.0.1 -p "${MONETA_REDIS_PORT:-6380}" ping 2>&1)"
[[ "$reply" == PONG ]] || { echo "redis-probe: $reply" >&2; exit 1; }
