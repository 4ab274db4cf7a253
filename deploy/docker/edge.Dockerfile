# syntax=docker/dockerfile:1
# The nginx edge for the compose stack (docs/containers.md "Edge"): Debian's nginx with the
# headers-more module and deploy/nginx, rendered at start by edge-start.sh into /tmp/nginx, run as
# www-data (no root master: port 8080, the `user` directive does not apply).
ARG BASE_IMAGE=debian:12-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/packages.txt /tmp/packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed -n 's/^edge: *//p' /tmp/packages.txt) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/packages.txt /etc/nginx/sites-enabled/*
COPY deploy/nginx/ /etc/moneta/nginx/
COPY deploy/docker/entrypoint.sh /usr/local/bin/moneta-entrypoint
COPY deploy/docker/edge-start.sh /usr/local/bin/edge-start
COPY deploy/docker/probe.sh /usr/local/bin/moneta-probe
EXPOSE 8080
USER www-data
WORKDIR /
# SIGQUIT: nginx's graceful shutdown (finish in-flight requests); SIGTERM would cut them.
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/bin/sh", "-c", "exec moneta-probe \"${MONETA_EDGE_PORT:-8080}\" /healthz"]
ENTRYPOINT ["/usr/local/bin/moneta-entrypoint"]
CMD ["/usr/local/bin/edge-start"]
