#!/bin/bash
# Entrypoint of the moneta and internal_api images (docs/containers.md "Secrets").
#
# Every regular file in $MONETA_SECRETS_DIR (default /run/secrets: compose `secrets:`, a Kubernetes
# secret volume) whose name is one of the services' variable names (MONETA_*, INTERNAL_API_*,
# CONSUL_HTTP_TOKEN) becomes that environment variable, trailing newlines removed, unless the
# variable is already set and not empty. Other files (cdn_key.pem, ...) are left alone: the
# services read those by path. A file that cannot be read stops the container with its name.
# Then the service replaces this shell (exec): it is PID 1 and gets SIGTERM itself.
set -euo pipefail

dir="${MONETA_SECRETS_DIR:-/run/secrets}"
if [[ -d "$dir" ]]; then
    for file in "$dir"/*; do
        name="${file##*/}"
        [[ -f "$file" ]] || continue
        [[ "$name" =~ ^(MONETA_[A-Z0-9_]+|INTERNAL_API_[A-Z0-9_]+|CONSUL_HTTP_TOKEN)$ ]] || continue
        [[ -z "${!name:-}" ]] || continue
        if ! value="$(<"$file")"; then
            echo "entrypoint: cannot read the secret file $file (uid $(id -u))" >&2
            exit 78
        fi
        export "$name=$value"
    done
fi
exec "$@"
