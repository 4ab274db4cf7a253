# syntax=docker/dockerfile:1
# Redis for the compose stack (docs/containers.md "Redis"): Debian's redis-server 7.0 with the dev
# stack's settings (AOF everysec), as the package's `redis` user, data in the /data volume.
ARG BASE_IMAGE=debian:12-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/packages.txt /tmp/packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed -n 's/^redis: *//p' /tmp/packages.txt) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/packages.txt \
 && install -d -o redis -g redis -m 0750 /data
COPY deploy/docker/entrypoint.sh /usr/local/bin/moneta-entrypoint
COPY deploy/docker/redis-start.sh /usr/local/bin/redis-start
COPY deploy/docker/redis-probe.sh /usr/local/bin/redis-probe
EXPOSE 6380
VOLUME ["/data"]
USER redis
WORKDIR /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/redis-probe"]
ENTRYPOINT ["/usr/local/bin/moneta-entrypoint"]
CMD ["/usr/local/bin/redis-start"]
