#!/usr/bin/env bash
# Builds the Lambda functions' zips (ingest, query, authorizer, compact, rules, alerts) with cargo-lambda.
#
#   local-dev/build-lambdas.sh [--arm64] [extra cargo-lambda build arguments]
#
# Installs cargo-lambda with pip when `cargo lambda` is missing (it brings zig, which links
# against an old glibc so the binaries run on provided.al2023), builds the functions with the
# `lambda` profile of the root Cargo.toml, prints each zip's path and size, and writes the
# terraform variable `lambda_zips` (absolute paths) as JSON. Safe to run again: cargo only
# rebuilds what changed and the zips are overwritten. See docs/build.md.
#
# Environment:
#   CARGO_TARGET_DIR   default ~/.cache/monitoring-architect/target; the zips land in
#                      $CARGO_TARGET_DIR/lambda/<function>/bootstrap.zip
#   LAMBDA_PROFILE     cargo profile (default `lambda`; `release` works too)
#   LAMBDA_FUNCTIONS   packages to build (default "ingest query authorizer compact rules alerts")
#   TFVARS             where to write {"lambda_zips": {...}} (default
#                      $CARGO_TARGET_DIR/lambda/lambda_zips.auto.tfvars.json); e.g.
#                      terraform/examples/complete/lambda_zips.auto.tfvars.json, which terraform
#                      loads by itself (the name is git-ignored)
#   NICE               prefix for the build (default `nice`; set empty for none)
#
# --arm64 builds for Graviton (cheaper per GB-second): it needs the aarch64-unknown-linux-gnu
# standard library (`rustup target add aarch64-unknown-linux-gnu`), and the terraform module's
# lambda_architectures = ["arm64"]. All zips of one deployment must be of one architecture.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/monitoring-architect/target}"
PROFILE="${LAMBDA_PROFILE:-lambda}"
FUNCTIONS="${LAMBDA_FUNCTIONS:-ingest query authorizer compact rules alerts}"
NICE="${NICE-nice}"
LAMBDA_DIR="$CARGO_TARGET_DIR/lambda"
TFVARS="${TFVARS:-$LAMBDA_DIR/lambda_zips.auto.tfvars.json}"

arch=(--x86-64)
if [[ "${1:-}" == "--arm64" ]]; then
    arch=(--arm64)
    shift
fi

if ! cargo lambda -V >/dev/null 2>&1; then
    echo "cargo-lambda is missing: installing it with pip" >&2
    python3 -m pip install --quiet cargo-lambda
    cargo lambda -V >/dev/null
fi
echo "$(cargo lambda -V), $(cargo -V)" >&2

packages=()
for f in $FUNCTIONS; do
    packages+=(-p "$f")
done

start=$(date +%s)
# shellcheck disable=SC2086 # NICE is a command prefix, possibly empty
$NICE cargo lambda build --locked --profile "$PROFILE" "${arch[@]}" --output-format zip \
    --lambda-dir "$LAMBDA_DIR" "${packages[@]}" "$@"
echo "built in $(($(date +%s) - start)) s (profile $PROFILE, ${arch[*]})" >&2

json="{\"lambda_zips\": {"
sep=""
printf '%-11s %10s  %s\n' function "zip bytes" path
for f in $FUNCTIONS; do
    zip="$LAMBDA_DIR/$f/bootstrap.zip"
    if [[ ! -f "$zip" ]]; then
        echo "missing $zip" >&2
        exit 1
    fi
    size=$(stat -c %s "$zip")
    printf '%-11s %10s  %s (%s MB)\n' "$f" "$size" "$zip" \
        "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"
    json+="$sep\"$f\": \"$zip\""
    sep=", "
done
json+="}}"
mkdir -p "$(dirname "$TFVARS")"
printf '%s\n' "$json" >"$TFVARS"
echo
echo "lambda_zips written to $TFVARS:"
echo "  $json"
