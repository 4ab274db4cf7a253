#!/usr/bin/env bash
# Immutable Elastic Beanstalk deploy (docs/ci.md "Deploy: Elastic Beanstalk"):
#   .ci/deploy/beanstalk.sh deploy   a new application version labelled with the commit SHA from
#                                    deploy/aws/Dockerrun.aws.json (images switched to the commit's)
#                                    and deploy/aws/.ebextensions, then the environment updated to
#                                    it with DeploymentPolicy Immutable; fails unless the
#                                    environment ends on that version. Outputs previous_version.
#   .ci/deploy/beanstalk.sh rollback <version label>
#                                    the environment back on that version (again immutable).
# An immutable deploy starts the new version on a fresh Auto Scaling group and moves traffic only
# once those instances pass health checks; when they do not, Beanstalk terminates them and the
# environment stays on the previous version by itself.
# Env: EB_APPLICATION, EB_ENVIRONMENT, and for deploy EB_BUCKET (S3 bucket for source bundles),
# IMAGE_TAG, MONETA_IMAGE, ECR_REPOSITORY, optionally INTERNAL_API_IMAGE and
# ECR_REPOSITORY_INTERNAL_API; EB_WAIT_SECONDS (1800).
set -euo pipefail
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$DEPLOY_DIR/lib.sh"
ROOT="$(cd "$DEPLOY_DIR/../.." && pwd)"

IMMUTABLE='Namespace=aws:elasticbeanstalk:command,OptionName=DeploymentPolicy,Value=Immutable'

environment_field() {
    aws elasticbeanstalk describe-environments --application-name "$EB_APPLICATION" \
        --environment-names "$EB_ENVIRONMENT" --query "Environments[0].$1" --output text
}

# wait_ready: bounded polling until the environment's update is over (Status Ready).
wait_ready() {
    local deadline=$((SECONDS + ${EB_WAIT_SECONDS:-1800})) status
    while :; do
        status=$(environment_field Status)
        [[ "$status" == Ready ]] && return 0
        [[ $SECONDS -lt $deadline ]] || die "$EB_ENVIRONMENT still $status after ${EB_WAIT_SECONDS:-1800} s"
        sleep 20
    done
}

update_to() {
    aws elasticbeanstalk update-environment --application-name "$EB_APPLICATION" \
        --environment-name "$EB_ENVIRONMENT" --version-label "$1" --option-settings "$IMMUTABLE" >/dev/null
    wait_ready
    local version health
    version=$(environment_field VersionLabel)
    health=$(environment_field Health)
    [[ "$version" == "$1" ]] || die "$EB_ENVIRONMENT runs '$version', not $1: the immutable deploy failed and Beanstalk kept the previous version"
    [[ "$health" == Green ]] || die "$EB_ENVIRONMENT runs $1 but its health is $health"
}

deploy() {
    require EB_APPLICATION EB_ENVIRONMENT EB_BUCKET IMAGE_TAG MONETA_IMAGE ECR_REPOSITORY
    require_sha_tag "$IMAGE_TAG"
    local label="$IMAGE_TAG" previous work exists
    previous=$(environment_field VersionLabel)
    [[ -n "$previous" && "$previous" != None ]] || die "environment $EB_ENVIRONMENT not found"
    output previous_version "$previous"

    exists=$(aws elasticbeanstalk describe-application-versions --application-name "$EB_APPLICATION" \
        --version-labels "$label" --query 'length(ApplicationVersions)' --output text)
    if [[ "$exists" == 0 ]]; then
        work="$(mktemp -d)"
        mkdir "$work/bundle"
        cp "$ROOT/deploy/aws/Dockerrun.aws.json" "$work/Dockerrun.aws.json"
        local images=("$ECR_REPOSITORY" "$MONETA_IMAGE")
        if [[ -n "${INTERNAL_API_IMAGE:-}" && -n "${ECR_REPOSITORY_INTERNAL_API:-}" ]]; then
            images+=("$ECR_REPOSITORY_INTERNAL_API" "$INTERNAL_API_IMAGE")
        fi
        render_images "$work/Dockerrun.aws.json" "${images[@]}" >"$work/bundle/Dockerrun.aws.json"
        if [[ -d "$ROOT/deploy/aws/.ebextensions" ]]; then
            cp -R "$ROOT/deploy/aws/.ebextensions" "$work/bundle/"
        fi
        (cd "$work/bundle" && zip -qr "$work/bundle.zip" .)
        local key="$EB_APPLICATION/$label.zip"
        aws s3 cp --only-show-errors "$work/bundle.zip" "s3://$EB_BUCKET/$key"
        aws elasticbeanstalk create-application-version --application-name "$EB_APPLICATION" \
            --version-label "$label" --description "commit $label" \
            --source-bundle "S3Bucket=$EB_BUCKET,S3Key=$key" --process >/dev/null
    else
        log "application version $label exists (a re-run): deployed as it is"
    fi
    summary "Elastic Beanstalk $EB_ENVIRONMENT: $previous -> $label (immutable)"
    log "updating $EB_ENVIRONMENT to $label (DeploymentPolicy Immutable)"
    update_to "$label"
    log "$EB_ENVIRONMENT runs $label"
}

rollback() {
    require EB_APPLICATION EB_ENVIRONMENT
    local previous="${1:?usage: beanstalk.sh rollback <version label>}"
    log "rolling $EB_ENVIRONMENT back onto $previous"
    summary "Elastic Beanstalk $EB_ENVIRONMENT: rolled back to $previous"
    # An update still in progress (a failed deploy being undone) must end first.
    wait_ready
    update_to "$previous"
}

case "${1:-}" in
    deploy) deploy ;;
    rollback) shift; rollback "$@" ;;
    *) echo "usage: beanstalk.sh deploy | rollback <version label>" >&2; exit 2 ;;
esac
