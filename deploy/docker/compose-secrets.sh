#!/usr/bin/env bash
# compose.yaml's secret files (docs/containers.md "Compose"): .compose/secrets/<NAME>, random like
# ./dev up's (scripts/stack.sh load_secret), made once and kept; an exported variable of the same
# name is written instead of a random value. The directory is 0700; the files are 0644 because
# the services read them as their own non-root users through the bind mount.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${MONETA_COMPOSE_SECRETS:-$root/.compose/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"
secret() {  # secret <NAME> <random bytes>
    local name="$1" bytes="$2"
    [[ -s "$dir/$name" ]] && return 0
    if [[ -n "${!name:-}" ]]; then
        printf '%s\n' "${!name}" >"$dir/$name"
    else
        openssl rand -hex "$bytes" >"$dir/$name"
    fi
    chmod 644 "$dir/$name"
    echo "made $dir/$name"
}
secret MONETA_JWT_SECRET 32
secret INTERNAL_API_TOKEN 32
secret MONETA_REDIS_PASSWORD 32
secret MONETA_EDGE_TOKEN 32
secret MONETA_ADMIN_TOKEN 32
secret MONETA_SESSION_KEY 32
secret MONETA_DRM_SITE_KEY 16     # PallyCon: exactly 32 characters
secret MONETA_DRM_ACCESS_KEY 16
secret MONETA_CDN_ORIGIN_SECRET 32
if [[ ! -s "$dir/cdn_key.pem" ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/cdn_key.pem" 2>/dev/null
    chmod 644 "$dir/cdn_key.pem"
    echo "made $dir/cdn_key.pem"
fi
echo "a token for a_1/p_1: MONETA_JWT_SECRET=\$(cat $dir/MONETA_JWT_SECRET) build/release/tools/jwt_tool/jwt_tool sign --secret-env MONETA_JWT_SECRET --sub a_1 --pid p_1 --ttl 3600 --iss moneta-dev --aud moneta"
