#!/usr/bin/env bash
# Immutable ECS deploy (docs/ci.md "Deploy: ECS"):
#   .ci/deploy/ecs.sh deploy     registers a new revision of the service's task definition with
#                                the commit's images, rolls the service onto it with the
#                                deployment circuit breaker (rollback on) and waits until stable;
#                                fails when ECS rolled back. Outputs previous_task_definition and
#                                task_definition.
#   .ci/deploy/ecs.sh rollback <task definition arn>
#                                puts the service back on that revision and waits until stable
#                                (the workflow's step after a failed deploy or smoke check).
# Env: ECS_CLUSTER, ECS_SERVICE, and for deploy IMAGE_TAG (the commit SHA), MONETA_IMAGE and
# ECR_REPOSITORY (the repository whose containers get MONETA_IMAGE), optionally
# INTERNAL_API_IMAGE and ECR_REPOSITORY_INTERNAL_API.
# The template is the revision the service runs now: the infrastructure owns roles, secrets,
# ports and log settings; a deploy changes the image and nothing else.
set -euo pipefail
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$DEPLOY_DIR/lib.sh"

# Circuit breaker with rollback: ECS stops a deployment whose tasks keep failing to start or to
# pass the load balancer's health check, and returns to the last completed deployment by itself.
DEPLOYMENT_CONFIGURATION='deploymentCircuitBreaker={enable=true,rollback=true},maximumPercent=200,minimumHealthyPercent=100'

# primary_deployment: "<task definition arn> <rollout state>" of the service's PRIMARY deployment.
primary_deployment() {
    # shellcheck disable=SC2016 # JMESPath's `PRIMARY` literal, not a shell expansion
    aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
        --query 'services[0].deployments[?status==`PRIMARY`] | [0].[taskDefinition, rolloutState]' --output text
}

update_and_wait() {
    local task_definition="$1"
    aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" \
        --task-definition "$task_definition" --deployment-configuration "$DEPLOYMENT_CONFIGURATION" >/dev/null
    # Polls every 15 s, 40 times at most.
    aws ecs wait services-stable --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE"
}

deploy() {
    require ECS_CLUSTER ECS_SERVICE IMAGE_TAG MONETA_IMAGE ECR_REPOSITORY
    require_sha_tag "$IMAGE_TAG"
    [[ "$MONETA_IMAGE" == *":$IMAGE_TAG" ]] || die "MONETA_IMAGE $MONETA_IMAGE is not tagged $IMAGE_TAG"
    local work previous current new
    work="$(mktemp -d)"
    previous=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
        --query 'services[0].taskDefinition' --output text)
    [[ "$previous" == arn:* ]] || die "service $ECS_SERVICE in $ECS_CLUSTER not found ($previous)"
    output previous_task_definition "$previous"

    aws ecs describe-task-definition --task-definition "$previous" --query taskDefinition --output json \
        >"$work/current.json"
    local images=("$ECR_REPOSITORY" "$MONETA_IMAGE")
    if [[ -n "${INTERNAL_API_IMAGE:-}" && -n "${ECR_REPOSITORY_INTERNAL_API:-}" ]]; then
        images+=("$ECR_REPOSITORY_INTERNAL_API" "$INTERNAL_API_IMAGE")
    fi
    render_images "$work/current.json" "${images[@]}" \
        | jq 'del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
                  .registeredAt, .registeredBy, .deregisteredAt)' >"$work/new.json"
    new=$(aws ecs register-task-definition --cli-input-json "file://$work/new.json" \
        --query 'taskDefinition.taskDefinitionArn' --output text)
    output task_definition "$new"
    summary "ECS $ECS_CLUSTER/$ECS_SERVICE: $previous -> $new"

    log "rolling $ECS_SERVICE onto $new (circuit breaker with rollback)"
    if ! update_and_wait "$new"; then
        die "$ECS_SERVICE did not become stable on $new"
    fi
    current=$(primary_deployment)
    if [[ "$current" != "$new"*COMPLETED ]]; then
        die "ECS rolled back: the primary deployment is '$current', not $new (circuit breaker)"
    fi
    log "$ECS_SERVICE runs $new"
}

rollback() {
    require ECS_CLUSTER ECS_SERVICE
    local previous="${1:?usage: ecs.sh rollback <task definition arn>}"
    [[ "$previous" == arn:* ]] || die "not a task definition arn: $previous"
    log "rolling $ECS_SERVICE back onto $previous"
    summary "ECS $ECS_CLUSTER/$ECS_SERVICE: rolled back to $previous"
    update_and_wait "$previous"
    local current
    current=$(primary_deployment)
    [[ "$current" == "$previous"*COMPLETED ]] || die "rollback did not complete: '$current'"
    log "$ECS_SERVICE runs $previous again"
}

case "${1:-}" in
    deploy) deploy ;;
    rollback) shift; rollback "$@" ;;
    *) echo "usage: ecs.sh deploy | rollback <task definition arn>" >&2; exit 2 ;;
esac
