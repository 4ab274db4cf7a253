# syntax=docker/dockerfile:1
# internal_api, the reference system of record on SQLite (docs/containers.md). Build from the
# repository root:
#   podman build --format docker -f deploy/docker/internal_api.Dockerfile -t internal_api .
# Stages as in moneta.Dockerfile: builder (identical there and here, so one cached build serves
# both), runtime, then `internal_api` (default) or `prebuilt` (`--build-context bin=<dir>`).
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
ARG EXTRA_PACKAGES=""
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/packages.txt /tmp/packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed -n 's/^internal_api: *//p' /tmp/packages.txt) ${EXTRA_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/packages.txt \
 && groupadd --system --gid 10001 moneta \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin moneta \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/internal_api
COPY deploy/docker/entrypoint.sh /usr/local/bin/moneta-entrypoint
COPY deploy/docker/probe.sh /usr/local/bin/moneta-probe
COPY services/internal_api/config/internal_api.json /etc/internal_api/internal_api.json
# The demo catalog and accounts (docs/fixtures.md); mount another file over it for other data.
COPY fixtures/demo.json /usr/share/moneta/fixtures/demo.json
ENV INTERNAL_API_ADDRESS=0.0.0.0
EXPOSE 8082
# The SQLite file (and its journal) is the only thing written: a volume. Run with --read-only
# --tmpfs /tmp (SQLite's temp files).
VOLUME ["/var/lib/internal_api"]
USER 10001:10001
WORKDIR /
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "exec moneta-probe \"${INTERNAL_API_PORT:-8082}\" /healthz"]
ENTRYPOINT ["/usr/local/bin/moneta-entrypoint"]
CMD ["/usr/local/bin/internal_api", "--config", "/etc/internal_api/internal_api.json", \
     "--db", "/var/lib/internal_api/internal_api.sqlite", \
     "--fixtures", "/usr/share/moneta/fixtures/demo.json"]

FROM runtime AS prebuilt
COPY --from=bin internal_api /usr/local/bin/internal_api

FROM runtime AS internal_api
COPY --from=builder /out/internal_api /usr/local/bin/internal_api
