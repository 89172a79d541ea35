#!/usr/bin/env bash
# Runs every test of Monitoring Architect on a fresh Debian machine: installs what the suites need
# (idempotently: apt, rustup components), then checks formatting and lints, builds, and runs all
# unit, conformance and integration tests (real Prometheus and node_exporter included).
#
# Usage: tests/run.sh            (from anywhere; CI runs it through .ci/run)
# Env:   CARGO_TARGET_DIR        build cache, kept outside the clone so reruns are incremental
#        CI=true                 a missing peer binary fails the run instead of skipping tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/monitoring-architect/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

install_debian_packages() {
  local missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v prometheus-node-exporter >/dev/null || missing+=(prometheus-node-exporter)
  command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
  command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
  command -v curl >/dev/null || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    # The packages' init scripts may try to start services; without an init system that is a no-op.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
  fi
}

install_rust_tools() {
  command -v cargo >/dev/null || { echo "cargo is required (rustup)" >&2; exit 1; }
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
  cargo nextest --version >/dev/null 2>&1 || cargo install --locked cargo-nextest
}

# moto[server] (AWS emulator for the terraform test) and checkov (terraform linter), each in a
# virtualenv of its own: checkov pins old boto3/botocore versions, which in a shared environment
# replace the ones moto or the AWS CLI need. The entry points are linked into /usr/local/bin. terraform itself and its provider mirror are not
# on a package registry: tests/tests/terraform.rs skips without them (and fails under CI=true).
install_python_tools() {
  local tools="${ARCHITECT_TOOLS_DIR:-$HOME/.cache/monitoring-architect/tools}" pkg bin
  for pkg in 'moto[server]:moto_server' 'checkov:checkov'; do
    bin="${pkg#*:}"
    command -v "$bin" >/dev/null && continue
    python3 -c 'import ensurepip, venv' 2>/dev/null || {
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    }
    log "installing ${pkg%%:*} into $tools/$bin"
    python3 -m venv "$tools/$bin"
    "$tools/$bin/bin/pip" install -q "${pkg%%:*}"
    as_root ln -sf "$tools/$bin/bin/$bin" "/usr/local/bin/$bin"
  done
}

log "dependencies"
install_debian_packages
install_rust_tools
install_python_tools

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "build (dev profile)"
cargo build --workspace --all-targets --locked

log "tests"
# Integration tests start real processes (the architect binary, Prometheus, node_exporter) on
# loopback with free ports; two at a time keeps a 2-core machine responsive.
cargo nextest run --workspace --locked --no-fail-fast --test-threads 2 --failure-output final

log "tests of the patched zstd copy (shared/vendored/zstd, outside the workspace)"
cargo test --manifest-path shared/vendored/zstd/Cargo.toml --locked --test pool

log "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
