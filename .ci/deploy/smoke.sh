#!/usr/bin/env bash
# Post-deploy smoke check (docs/ci.md "Rollback"): GET <base>/healthz and <base>/readyz must both
# answer 200, each within SMOKE_TRIES tries SMOKE_DELAY seconds apart (load balancer
# registration takes a moment). Exit status 1 otherwise: the workflow's rollback step follows.
#   .ci/deploy/smoke.sh https://playback.example.com
set -euo pipefail
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$DEPLOY_DIR/lib.sh"

base="${1:?usage: smoke.sh <base url>}"
tries="${SMOKE_TRIES:-10}"
delay="${SMOKE_DELAY:-6}"
for path in /healthz /readyz; do
    code=000
    for ((i = 1; i <= tries; i++)); do
        code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$base$path" 2>/dev/null) || code=000
        [[ "$code" == 200 ]] && break
        [[ $i -lt $tries ]] && sleep "$delay"
    done
    [[ "$code" == 200 ]] || die "smoke check: $base$path answered $code after $tries tries"
    log "smoke check: $base$path answered 200"
done
