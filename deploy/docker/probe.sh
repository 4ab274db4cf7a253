#!/bin/bash
# moneta-probe [PORT] [PATH]: the images' HEALTHCHECK without curl (docs/containers.md
# "Healthcheck"). One `GET PATH HTTP/1.1` to 127.0.0.1:PORT over bash's /dev/tcp; exit 0 only
# when the status line says 200 within 3 s, 1 otherwise (refused, timeout, any other status).
set -u
port="${1:?usage: moneta-probe PORT [PATH]}"
path="${2:-/healthz}"
[[ "$port" =~ ^[0-9]{1,5}$ && "$path" =~ ^/[!-~]*$ ]] || { echo "moneta-probe: bad port or path" >&2; exit 2; }
exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || { echo "moneta-probe: 127.0.0.1:$port refused" >&2; exit 1; }
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: moneta-probe\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
status=""
IFS= read -r -t 3 status <&3 || true
status="${status%$'\r'}"
if [[ "$status" =~ ^HTTP/1\.[01]\ 200( |$) ]]; then
    exit 0
fi
echo "moneta-probe: GET $path on port $port: ${status:-no answer within 3 s}" >&2
exit 1
