#!/usr/bin/env bash
# A/B comparison of two architect builds on the same data, for changes smaller than the noise
# of a full benchmark run.
#
#   local-dev/bench-ab.sh BIN_A BIN_B [PROMQL...]
#
# Ingests the benchmark's data set once (with BIN_A; BENCH_PROFILE, default full: 10,000
# series x 24 h), flushes it, optionally compacts it (BENCH_AB_COMPACT=1), and copies the data
# directory, so each build serves an identical copy. Both servers then stay up side by side
# and answer each query (a range query over the whole day, or its last hour with
# BENCH_AB_HOUR=1, at a 60 s step) in BENCH_AB_ROUNDS alternated rounds (default 8) of
# BENCH_AB_RUNS kept-alive requests (default 10): a slow spell of a shared machine lands on
# both builds alike, where one build's run after the other's would take it whole. Prints,
# per build and query, the median wall time and the server CPU per query (user + system,
# from /proc), and each round's CPU per query. Defaults to the day-long `sum by (rate)` and
# `histogram_quantile` of the query benchmark.
#
# Environment: BENCH_PROFILE, BENCH_AB_COMPACT, BENCH_AB_HOUR, BENCH_AB_ROUNDS, BENCH_AB_RUNS,
# BENCH_KEEP=1 (keep the work directory).
set -euo pipefail

if (($# < 2)); then
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
bin_a="$(realpath "$1")"
bin_b="$(realpath "$2")"
shift 2
queries=("$@")
if ((${#queries[@]} == 0)); then
    queries=(
        'sum by (job) (rate(node_cpu_seconds_total[5m]))'
        'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))'
    )
fi
rounds="${BENCH_AB_ROUNDS:-8}"
runs="${BENCH_AB_RUNS:-10}"
work="$(mktemp -d /tmp/architect-ab.XXXXXX)"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    done
    pids=()
    [[ "${BENCH_KEEP:-0}" == 1 ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# start BIN DIR: serves DIR/data on a free loopback port; prints the pid.
start() {
    rm -f "$2/data/listen.addr"
    "$1" serve --listen 127.0.0.1:0 --data-dir "$2/data" --config "$2/architect.yaml" >>"$2/server.log" 2>&1 &
    echo $!
}

# base DIR: the URL of the server on DIR, once it is ready.
base() {
    local i url
    for i in $(seq 1 600); do
        if [[ -s "$1/data/listen.addr" ]]; then
            url="http://$(cat "$1/data/listen.addr")"
            curl -fsS -o /dev/null "$url/-/ready" 2>/dev/null && {
                echo "$url"
                return 0
            }
        fi
        sleep 0.1
    done
    echo "server on $1 did not start; see $1/server.log" >&2
    return 1
}

mkdir -p "$work/a/data"
printf 'compactor:\n  enabled: false\n  settle_secs: 0\n  grace_period_secs: 0\n' >"$work/a/architect.yaml"
pid="$(start "$bin_a" "$work/a")"
pids=("$pid")
url="$(base "$work/a")"
echo "ingesting the ${BENCH_PROFILE:-full} data set with $bin_a ..."
"$bin_a" bench ingest --url "$url/api/v1/push" --profile "${BENCH_PROFILE:-full}" --connections 4 --name ab >"$work/ingest.log" 2>&1
curl -fsS -X POST "$url/api/v1/admin/flush" -o /dev/null
if [[ "${BENCH_AB_COMPACT:-0}" == 1 ]]; then
    curl -fsS --max-time 3600 -X POST "$url/api/v1/admin/compact" -o /dev/null
fi
result="$(grep '^RESULT ' "$work/ingest.log" | tail -1)"
cleanup_one() { kill -TERM "$1"; while kill -0 "$1" 2>/dev/null; do sleep 0.1; done; }
cleanup_one "$pid"
pids=()
cp -r "$work/a" "$work/b"

first_s="$(($(sed -n 's/.* first_ms=\([^ ]*\).*/\1/p' <<<"$result") / 1000))"
last_s="$(($(sed -n 's/.* last_ms=\([^ ]*\).*/\1/p' <<<"$result") / 1000))"
[[ "${BENCH_AB_HOUR:-0}" == 1 ]] && first_s=$((last_s - 3600))

pid_a="$(start "$bin_a" "$work/a")"
pid_b="$(start "$bin_b" "$work/b")"
pids=("$pid_a" "$pid_b")
url_a="$(base "$work/a")"
url_b="$(base "$work/b")"

# round URL PID OUT: RUNS kept-alive requests; appends their times to OUT.times and the
# server's CPU milliseconds to OUT.cpu.
round() {
    local args=() i c0 c1 hz
    hz="$(getconf CLK_TCK)"
    for ((i = 0; i < runs; i++)); do args+=(-o /dev/null "$1"); done
    c0="$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$2/stat")"
    curl -fsS -w '%{time_total}\n' "${args[@]}" >>"$3.times"
    c1="$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$2/stat")"
    echo $(((c1 - c0) * 1000 / hz)) >>"$3.cpu"
}

echo "A = $bin_a"
echo "B = $bin_b"
echo "$rounds alternated rounds of $runs requests; range $first_s..$last_s, step 60 s"
for q in "${queries[@]}"; do
    qs="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode(dict(zip(["query", "start", "end", "step"], sys.argv[1:]))))' "$q" "$first_s" "$last_s" 60)"
    rm -f "$work"/out-*
    # One warm-up round each (caches), not counted.
    round "$url_a/api/v1/query_range?$qs" "$pid_a" "$work/warm-a"
    round "$url_b/api/v1/query_range?$qs" "$pid_b" "$work/warm-b"
    for ((r = 0; r < rounds; r++)); do
        round "$url_a/api/v1/query_range?$qs" "$pid_a" "$work/out-a"
        round "$url_b/api/v1/query_range?$qs" "$pid_b" "$work/out-b"
    done
    echo "$q"
    for side in a b; do
        printf '  %s  wall median %6.1f ms  cpu/query %4d ms  (rounds: %s)\n' "${side^^}" \
            "$(sort -g "$work/out-$side.times" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] * 1000 }')" \
            "$(awk -v n="$runs" '{ s += $1 } END { printf "%d", s / NR / n }' "$work/out-$side.cpu")" \
            "$(awk -v n="$runs" '{ printf "%d ", $1 / n }' "$work/out-$side.cpu")"
    done
done
