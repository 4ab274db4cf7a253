# syntax=docker/dockerfile:1
# moneta, the playback API (docs/containers.md). Build from the repository root:
#   podman build --format docker -f deploy/docker/moneta.Dockerfile -t moneta .
#   docker build -f deploy/docker/moneta.Dockerfile -t moneta .
# Stages: builder (Release build of the tree), runtime (Debian + the runtime libraries of
# packages.txt, non-root user, entrypoint, healthcheck), then two ways to fill it: `moneta` (the
# default, last stage: the binary from builder) and `prebuilt` (the binary from a build context
# named `bin`, e.g. `--target prebuilt --build-context bin=build/release/services/moneta`: what
# tests/deploy/docker does with the test build's binary, without compiling in the container).
# Keep the builder stage identical in moneta.Dockerfile and internal_api.Dockerfile: the second
# image then reuses the first one's cached build (tests/deploy/docker checks it).
ARG BASE_IMAGE=debian:12-slim

FROM ${BASE_IMAGE} AS builder
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/packages.txt /tmp/packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed -n 's/^build: *//p' /tmp/packages.txt) \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMONETA_BUILD_TESTS=OFF -DMONETA_BUILD_BENCH=OFF \
 && cmake --build /build --target moneta internal_api \
 && install -D -m 0755 -s /build/services/moneta/moneta /out/moneta \
 && install -D -m 0755 -s /build/services/internal_api/internal_api /out/internal_api

FROM ${BASE_IMAGE} AS runtime
# Extra Debian packages, e.g. "libasan8 libubsan1" for a sanitizer build (tests only).
ARG EXTRA_PACKAGES=""
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/packages.txt /tmp/packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed -n 's/^moneta: *//p' /tmp/packages.txt) ${EXTRA_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/packages.txt \
 && groupadd --system --gid 10001 moneta \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin moneta
COPY deploy/docker/entrypoint.sh /usr/local/bin/moneta-entrypoint
COPY deploy/docker/probe.sh /usr/local/bin/moneta-probe
COPY services/moneta/config/moneta.json /etc/moneta/moneta.json
# The shipped moneta.json with container defaults (docs/config.md "Environment overrides"): both
# ports on every interface of the container, the dependencies by their compose service names,
# the CloudFront key from the secrets mount. Secrets: entrypoint.sh (docs/containers.md).
ENV MONETA_ADDRESS=0.0.0.0 \
    MONETA_ADMIN_ADDRESS=0.0.0.0 \
    MONETA_REDIS_HOST=redis \
    INTERNAL_API_HOST=internal-api \
    MONETA_CDN_KEY_FILE=/run/secrets/cdn_key.pem
EXPOSE 8081 9091
# Nothing is written: logs go to stdout, state to Redis and the internal API. Run it with
# --read-only --tmpfs /tmp.
USER 10001:10001
WORKDIR /
STOPSIGNAL SIGTERM
# Ready = Redis connected once (docs/moneta.md "Health"); /healthz would only say "alive".
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "exec moneta-probe \"${MONETA_ADMIN_PORT:-9091}\" /readyz"]
ENTRYPOINT ["/usr/local/bin/moneta-entrypoint"]
CMD ["/usr/local/bin/moneta", "--config", "/etc/moneta/moneta.json"]

FROM runtime AS prebuilt
COPY --from=bin moneta /usr/local/bin/moneta

FROM runtime AS moneta
COPY --from=builder /out/moneta /usr/local/bin/moneta
