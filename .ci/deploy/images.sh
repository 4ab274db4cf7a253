#!/usr/bin/env bash
# Builds the two images and pushes them to ECR, tagged with the full commit SHA (docs/ci.md
# "Images"). A tag that is already in the repository is not rebuilt: the repositories are
# IMMUTABLE, so a re-run of the same commit keeps the image that was tested and pushed first.
# Env: REGISTRY (from aws-actions/amazon-ecr-login), IMAGE_TAG (github.sha), ECR_REPOSITORY
# (moneta's), ECR_REPOSITORY_INTERNAL_API, BASE_IMAGE (optional: the Dockerfiles' default
# otherwise). Outputs moneta_image and internal_api_image.
set -euo pipefail
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$DEPLOY_DIR/lib.sh"
ROOT="$(cd "$DEPLOY_DIR/../.." && pwd)"

require REGISTRY IMAGE_TAG ECR_REPOSITORY ECR_REPOSITORY_INTERNAL_API
require_sha_tag "$IMAGE_TAG"

# build_and_push <output name> <Dockerfile> <repository>
build_and_push() {
    local name="$1" dockerfile="$2" repository="$3"
    local image="$REGISTRY/$repository:$IMAGE_TAG"
    if aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$IMAGE_TAG" >/dev/null 2>&1; then
        log "$image exists: not rebuilt (immutable tag)"
    else
        local args=(--pull -f "$ROOT/$dockerfile" -t "$image"
            --label "org.opencontainers.image.revision=$IMAGE_TAG"
            --label "org.opencontainers.image.source=${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}")
        if [[ -n "${BASE_IMAGE:-}" ]]; then
            args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
        fi
        log "building $image from $dockerfile"
        DOCKER_BUILDKIT=1 docker build "${args[@]}" "$ROOT"
        docker push "$image"
    fi
    output "$name" "$image"
    summary "- \`$image\`"
}

summary "### Images ($IMAGE_TAG)"
build_and_push moneta_image deploy/docker/moneta.Dockerfile "$ECR_REPOSITORY"
build_and_push internal_api_image deploy/docker/internal_api.Dockerfile "$ECR_REPOSITORY_INTERNAL_API"
