# syntax=docker/dockerfile:1
# The ingester container (functions/ingester): WAL and head in one long-running process; the
# ECS Fargate task of terraform/modules/monitoring-architect runs it (see docs/deploy.md and
# docs/build.md). Build from the repository root:
#
#   docker build -f infra/ingester.Dockerfile -t architect-ingester .
#   docker buildx build --platform linux/arm64 -f infra/ingester.Dockerfile ...   # Graviton
#
# Configuration is environment variables (architect_service::env): ARCHITECT_BUCKET and
# ARCHITECT_TABLE select S3 + DynamoDB (the module sets both); without them blocks and the index
# stay under /data as well. The WAL is always under ARCHITECT_DATA_DIR (/data, EFS in AWS).

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# The whole workspace: cargo needs every member's manifest even for one package.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p architect-ingester-fn --bin ingester \
    && install -D -m 0755 target/release/ingester /out/ingester

FROM debian:bookworm-slim
# curl for the ECS health check (`curl -fsS http://127.0.0.1:9009/-/ready`), CA certificates
# for S3 and DynamoDB over TLS. Unpinned on purpose: the Debian security updates of the day.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 architect \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin architect \
    && install -d -o 10001 -g 10001 -m 0750 /data
COPY --from=build /out/ingester /usr/local/bin/ingester
# 10001 is also the POSIX user the module's EFS access point imposes on the WAL's files.
USER 10001:10001
ENV ARCHITECT_LISTEN=0.0.0.0:9009 \
    ARCHITECT_DATA_DIR=/data \
    ARCHITECT_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 9009
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:9009/-/ready"]
# SIGTERM (the default stop signal) drains requests and flushes the head.
ENTRYPOINT ["/usr/local/bin/ingester"]
