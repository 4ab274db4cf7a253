# shellcheck shell=bash
# Helpers of the .ci/deploy scripts (docs/ci.md "Deploy"). Sourced, not executed.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '::error::%s\n' "$*" >&2; exit 1; }

# require NAME...: each variable is set and non-empty (the workflow maps repository variables
# to them; docs/ci.md lists them).
require() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$name is not set (repository variable; see docs/ci.md)"
    done
}

# An image tag is the full commit SHA: immutable, and the ECR repositories refuse to overwrite it.
require_sha_tag() {
    [[ "$1" =~ ^[0-9a-f]{40}$ ]] || die "image tag '$1' is not a full commit SHA"
}

# output NAME VALUE: a step output (GITHUB_OUTPUT) and a line in the log.
output() {
    log "$1=$2"
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

# summary LINE: a line of the job summary page (GITHUB_STEP_SUMMARY), when there is one.
summary() {
    if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        printf '%s\n' "$*" >>"$GITHUB_STEP_SUMMARY"
    fi
}

# render_images <json file> <repository> <image> [<repository> <image>...]: prints the task
# definition / Dockerrun.aws.json with every container whose image comes from <repository> (any
# registry, any tag or digest) switched to <image>. Dockerrun v1 ("Image": {"Name"}) and v2/v3
# and ECS ("containerDefinitions"). Fails when no container at all was switched.
render_images() {
    local file="$1"
    shift
    local map='{}'
    while [[ $# -ge 2 ]]; do
        map=$(jq -c --arg r "$1" --arg i "$2" '. + {($r): $i}' <<<"$map")
        shift 2
    done
    jq --argjson map "$map" '
        def repo: sub("@.*$"; "") | sub(":[^:/]*$"; "") | split("/") as $p
            | [range(0; $p | length) as $k | $p[$k:] | join("/")];
        def switch: . as $img | [repo[] | select($map[.] != null)] as $hit
            | if ($hit | length) > 0 then $map[$hit[0]] else $img end;
        if has("containerDefinitions") then .containerDefinitions |= map(.image |= switch)
        elif (.Image.Name? // null) != null then .Image.Name |= switch
        else error("neither containerDefinitions nor Image.Name") end
    ' "$file" >"$file.rendered"
    local switched
    switched=$(jq -r --argjson map "$map" '[(.containerDefinitions // [])[].image, (.Image.Name? // empty)]
        | map(select(. as $i | $map | to_entries | any(.value == $i))) | length' "$file.rendered")
    [[ "$switched" -gt 0 ]] || die "$file: no container image comes from $(jq -r 'keys | join(", ")' <<<"$map")"
    cat "$file.rendered"
}
