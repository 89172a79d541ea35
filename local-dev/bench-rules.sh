#!/usr/bin/env bash
# Rule evaluation benchmark (issue 7): 1,000 rules (600 recording, 400 alerting, 50 groups of 20)
# over the 10,000-series node_exporter-like data set, evaluated once by `architect` (one ruler
# pass, timed through POST /api/v1/admin/rules/evaluate) and by Prometheus (the same rule file;
# the sum of prometheus_rule_group_last_duration_seconds after its first full cycle).
#
# Usage: local-dev/bench-rules.sh [ARCHITECT_BIN]
# Env:   BENCH_SERIES (10000), BENCH_HOURS (1), BENCH_RULES_GROUPS (50), BENCH_DIR (mktemp)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${1:-${CARGO_TARGET_DIR:-target}/release/architect}"
SERIES="${BENCH_SERIES:-10000}"
HOURS="${BENCH_HOURS:-1}"
NGROUPS="${BENCH_RULES_GROUPS:-50}"
DIR="${BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$DIR"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# 20 rules per group: 12 recording, 8 alerting, each a full query over its metric.
python3 - "$NGROUPS" > "$DIR/rules.yml" <<'PY'
import sys
groups = int(sys.argv[1])
rec = [
  'sum by (instance) (rate(node_cpu_seconds_total{{mode!="idle"}}[5m])) * {k}',
  'sum by (instance, device) (rate(node_network_receive_bytes_total[5m])) + {k}',
  'sum by (instance, device) (rate(node_disk_read_bytes_total[5m])) + {k}',
  'avg by (instance) (node_load1) + {k}',
  '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes + {k}',
  'max by (instance) (node_filesystem_avail_bytes / node_filesystem_size_bytes) + {k}',
]
alert = [
  'sum by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[5m])) < {k}',
  'node_load5 > {k}',
  'rate(node_network_transmit_errs_total[5m]) > {k}',
  'predict_linear(node_filesystem_avail_bytes[30m], 3600) < {k}',
]
print("groups:")
n = 0
for g in range(groups):
    print(f"  - name: bench-{g}\n    interval: 1m\n    rules:")
    for i in range(12):
        n += 1
        print(f"      - record: bench:rec_{n}\n        expr: {rec[i % len(rec)].format(k=n)!r}")
    for i in range(8):
        n += 1
        print(f"      - alert: Bench{n}\n        expr: {alert[i % len(alert)].format(k=n)!r}\n        for: 5m\n        annotations:\n          summary: '{{{{ $labels.instance }}}} at {{{{ $value | humanize }}}}'")
PY
python3 - "$DIR/rules.yml" > "$DIR/groups" <<'PY'
import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    print(yaml.safe_dump(g).replace("\n", "\\n"))
PY
START_MS=$(( ($(date +%s) - HOURS * 3600) * 1000 ))

# --- architect ---
mkdir -p "$DIR/architect"
printf 'ruler:\n  enabled: false\ncompactor:\n  enabled: false\n' > "$DIR/architect.yaml"
"$BIN" serve --listen 127.0.0.1:0 --data-dir "$DIR/architect" --config "$DIR/architect.yaml" \
  > "$DIR/architect.log" 2>&1 & PIDS+=($!)
until [ -s "$DIR/architect/listen.addr" ]; do sleep 0.2; done
URL="http://$(cat "$DIR/architect/listen.addr")"
until curl -sf "$URL/-/ready" >/dev/null; do sleep 0.2; done
"$BIN" bench ingest --url "$URL/api/v1/push" --series "$SERIES" --hours "$HOURS" \
  --start-ms "$START_MS" --name architect >&2
while IFS= read -r g; do
  printf '%b' "$g" | curl -sf -XPOST -H 'Content-Type: application/yaml' --data-binary @- \
    "$URL/config/v1/rules/bench" >/dev/null
done < "$DIR/groups"
T0=$(date +%s.%N)
REPORT=$(curl -sf -XPOST "$URL/api/v1/admin/rules/evaluate")
T1=$(date +%s.%N)
RSS=$(ps -o rss= -p "${PIDS[0]}")
echo "architect: $(echo "$T1 - $T0" | bc) s for one cycle of 1,000 rules; RSS ${RSS} KiB; $REPORT"

# --- Prometheus ---
PROM=$(command -v prometheus || true)
if [ -z "$PROM" ]; then echo "prometheus not installed: no comparison" >&2; exit 0; fi
mkdir -p "$DIR/prom"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'global:\n  evaluation_interval: 1m\nrule_files: [%s]\n' "$DIR/rules.yml" > "$DIR/prometheus.yml"
"$PROM" --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/prom" \
  --web.listen-address="127.0.0.1:$PORT" --web.enable-remote-write-receiver \
  > "$DIR/prometheus.log" 2>&1 & PIDS+=($!)
until curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null; do sleep 0.2; done
"$BIN" bench ingest --url "http://127.0.0.1:$PORT/api/v1/write" --series "$SERIES" \
  --hours "$HOURS" --start-ms "$START_MS" --name prometheus >&2
# Wait for a full evaluation cycle after the data is in.
sleep 70
# Prometheus does not scrape itself here: read its rule metrics from /metrics.
SUM=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^prometheus_rule_group_last_duration_seconds/ {s += $2} END {print s}')
RSS=$(ps -o rss= -p "${PIDS[1]}")
echo "prometheus: ${SUM} s summed over the ${NGROUPS} groups' last evaluation; RSS ${RSS} KiB"
