#!/bin/bash
# The edge image's command (docs/containers.md "Edge"): renders deploy/nginx/nginx.conf.template
# as scripts/stack.sh render_nginx_conf does, into /tmp/nginx (tmpfs; the root file system stays
# read-only), with three container changes: the upstream is $MONETA_UPSTREAM (default moneta:8081,
# the compose service), the edge listens on every interface of the container ($MONETA_EDGE_PORT,
# default 8080), and the access/error logs go to stdout/stderr. Then `nginx -t` and exec nginx
# (PID 1, master not daemonised; SIGQUIT drains, SIGTERM stops fast).
# Secrets (entrypoint.sh loads them from /run/secrets): MONETA_EDGE_TOKEN (required),
# MONETA_CDN_ORIGIN_SECRET (optional). MONETA_CDN_RANGES: CDN peer CIDRs (blank or comma separated).
set -euo pipefail

run="${MONETA_EDGE_RUN_DIR:-/tmp/nginx}"
conf_dir=/etc/moneta/nginx
upstream="${MONETA_UPSTREAM:-moneta:8081}"
edge_port="${MONETA_EDGE_PORT:-8080}"
status_port="${MONETA_EDGE_STATUS_PORT:-8084}"

die() { echo "edge: $*" >&2; exit 78; }
secret_shape() { [[ "$2" =~ ^[A-Za-z0-9_-]{16,256}$ ]] || die "$1 must be 16..256 characters of [A-Za-z0-9_-]"; }

secret_shape MONETA_EDGE_TOKEN "${MONETA_EDGE_TOKEN:-}"
[[ -z "${MONETA_CDN_ORIGIN_SECRET:-}" ]] || secret_shape MONETA_CDN_ORIGIN_SECRET "$MONETA_CDN_ORIGIN_SECRET"
[[ "$upstream" =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]] || die "MONETA_UPSTREAM must be host:port, got '$upstream'"
[[ "$edge_port" =~ ^[0-9]{1,5}$ && "$status_port" =~ ^[0-9]{1,5}$ ]] || die "bad port"

mkdir -p "$run"
umask 077
real_ip="" geo=""
spec="${MONETA_CDN_RANGES:-}"
ranges=()
read -r -a ranges <<<"${spec//,/ }"
for range in "${ranges[@]}"; do
    [[ "$range" =~ ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$ ]] || die "MONETA_CDN_RANGES: '$range' is not an address or CIDR"
    real_ip+="set_real_ip_from $range;"$'\n'
    geo+="$range 1;"$'\n'
done
printf '%s' "$real_ip" >"$run/cdn_real_ip.conf"
printf '%s' "$geo" >"$run/cdn_ranges.geo"
if [[ -n "${MONETA_CDN_ORIGIN_SECRET:-}" ]]; then
    printf '"~^%s$" 1;\n' "$MONETA_CDN_ORIGIN_SECRET" >"$run/cdn_origin_secret.map"
else
    : >"$run/cdn_origin_secret.map"
fi
printf 'default "%s";\n' "$MONETA_EDGE_TOKEN" >"$run/edge_token.map"
# The container changes come first: sed applies its expressions in order on each line.
sed -e "s#@MONETA_SERVERS@#server $upstream max_fails=1 fail_timeout=5s;#" \
    -e "s#listen 127\.0\.0\.1:@EDGE_PORT@ #listen $edge_port #" \
    -e "s#access_log @RUN_DIR@/access\.log#access_log /dev/stdout#" \
    -e "s#error_log @RUN_DIR@/error\.log#error_log stderr#" \
    -e "s#@RUN_DIR@#$run#g" -e "s#@CONF_DIR@#$conf_dir#g" -e "s#@WORKERS@#${MONETA_EDGE_WORKERS:-auto}#" \
    -e "s#@DAEMON@#off#" -e "s#@RATE_PER_SEC@#${MONETA_EDGE_RATE_PER_SEC:-50}#" \
    -e "s#@RATE_BURST@#${MONETA_EDGE_RATE_BURST:-100}#g" -e "s#@STATUS_PORT@#$status_port#" \
    "$conf_dir/nginx.conf.template" >"$run/nginx.conf"
# A template change that these patterns no longer match must fail here, not serve the wrong thing.
grep -q "server $upstream max_fails=1" "$run/nginx.conf" || die "the template's upstream line changed: update edge-start.sh"
grep -q "listen $edge_port " "$run/nginx.conf" || die "the template's listen line changed: update edge-start.sh"
if grep -n '^[^#]*@[A-Z_]*@' "$run/nginx.conf" >&2; then
    die "placeholders left in the rendered nginx.conf (above): update edge-start.sh"
fi
nginx -t -q -p "$run" -c "$run/nginx.conf" -e stderr
exec nginx -p "$run" -c "$run/nginx.conf" -e stderr
