#!/usr/bin/env bash
# Ingest and query benchmark: Monitoring Architect against Prometheus and VictoriaMetrics.
#
#   local-dev/bench.sh [small|full]
#
# For each target in turn (architect, prometheus, victoria-metrics) it starts the system on a
# fresh temporary directory and a free loopback port, pushes the same deterministic
# node_exporter-like data set with `architect bench ingest` (remote_write 1.0), flushes, then
# measures bytes on disk, bytes per sample, peak RSS (VmHWM) and the server's CPU time, then
# runs `architect bench query` (PromQL range queries over the whole data set and its last hour,
# an instant query, /series, /labels, /label/instance/values; median of BENCH_QUERY_RUNS) with
# the peak RSS reset first, stops it, and prints the tables. VictoriaMetrics runs with
# -search.disableCache so that no result cache answers. It builds nothing: it runs $ARCHITECT_BIN, else the release binary in
# $CARGO_TARGET_DIR, else the debug one.
#
# Environment:
#   ARCHITECT_BIN        binary to benchmark (and to drive the load with)
#   CARGO_TARGET_DIR     where to look for it (default ~/.cache/monitoring-architect/target)
#   BENCH_TARGETS        systems to run (default "architect prometheus victoria-metrics")
#   BENCH_CONNECTIONS    concurrent connections (default 4)
#   BENCH_ARGS           extra arguments for `architect bench ingest` (e.g. "--series 2000")
#   BENCH_SETTLE_SECS    wait after the flush before measuring disk (default 5)
#   BENCH_KEEP=1         keep the temporary directory (data and logs)
#   BENCH_QUERY=0        skip the query benchmark
#   BENCH_QUERY_RUNS     runs of each query, the median counts (default 5)
#   BENCH_COMPACT=0      skip the compaction step (architect: POST /api/v1/admin/compact after the
#                        query benchmark: bytes/sample of the compacted files, throughput, and
#                        the query benchmark again over the compacted day, "architect-compacted")
#   BENCH_LONG=0         skip the long-range step: BENCH_LONG_SERIES series (default 1000) x
#                        BENCH_LONG_DAYS days (default 30), compacted, then query_range over all
#                        of it at a 1 h step from raw data and from downsampled data, median of
#                        BENCH_LONG_RUNS runs (default 21)
#   PROMETHEUS_BIN, VICTORIA_METRICS_BIN   peer binaries (default: from PATH)
set -euo pipefail

profile="${1:-small}"
case "$profile" in
small | full) ;;
*)
    echo "usage: $0 [small|full]" >&2
    exit 2
    ;;
esac

target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/monitoring-architect/target}"
if [[ -n "${ARCHITECT_BIN:-}" ]]; then
    bin="$ARCHITECT_BIN"
    build="ARCHITECT_BIN"
elif [[ -x "$target_dir/release/architect" ]]; then
    bin="$target_dir/release/architect"
    build="release"
elif [[ -x "$target_dir/debug/architect" ]]; then
    bin="$target_dir/debug/architect"
    build="DEBUG build (not representative)"
else
    echo "no architect binary: build it (cargo build --release -p architect) or set ARCHITECT_BIN" >&2
    exit 1
fi
prometheus_bin="${PROMETHEUS_BIN:-prometheus}"
vm_bin="${VICTORIA_METRICS_BIN:-victoria-metrics}"
targets="${BENCH_TARGETS:-architect prometheus victoria-metrics}"
connections="${BENCH_CONNECTIONS:-4}"
settle="${BENCH_SETTLE_SECS:-5}"
read -r -a extra_args <<<"${BENCH_ARGS:-}"

work="$(mktemp -d "${TMPDIR:-/tmp}/architect-bench.XXXXXX")"
server_pid=""
client_pid=""

stop_server() {
    local pid="$1"
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 300); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "  pid $pid did not stop within 30 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    if [[ -n "$client_pid" ]]; then
        kill -TERM "$client_pid" 2>/dev/null || true
        wait "$client_pid" 2>/dev/null || true
    fi
    stop_server "$server_pid"
    server_pid=""
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS: until URL answers 2xx or the server dies.
wait_http() {
    local url="$1" deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "  server exited during start-up" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "  $url not ready after $2 s" >&2
    return 1
}

cpu_secs() { # user+system CPU seconds of a live process
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$1/stat"
}

du_bytes() {
    if [[ -e "$1" ]]; then du -sb "$@" | awk '{ s += $1 } END { print s + 0 }'; else echo 0; fi
}

# object_requests BASE: architect's object-store request counts so far (GET PUT LIST DELETE
# COPY, as S3 would bill them: `architect_object_store_requests_total` on /metrics).
object_requests() {
    curl -fsS --max-time 30 "$1/metrics" 2>/dev/null | awk '
        /^architect_object_store_requests_total\{/ {
            match($0, /operation="[a-z]+"/); c[substr($0, RSTART + 11, RLENGTH - 12)] = $NF
        }
        END { printf "%d %d %d %d %d", c["get"], c["put"], c["list"], c["delete"], c["copy"] }'
}

# requests_delta BEFORE AFTER: "GET n, PUT n, LIST n, DELETE n, COPY n" between two counts.
requests_delta() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " "); split("GET PUT LIST DELETE COPY", n, " ")
        for (i = 1; i <= 5; i++) printf "%s%s %d", (i > 1 ? ", " : ""), n[i], y[i] - x[i]
    }'
}

# query BASE PROMQL TIME: the value of a one-element instant vector, or nothing.
query() {
    curl -fsS --max-time 120 -G "$1/api/v1/query" --data-urlencode "query=$2" --data-urlencode "time=$3" 2>/dev/null |
        sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p' || true
}

results="$work/results.tsv"
: >"$results"
failed=0

echo "profile: $profile; binary: $bin ($build); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); work dir: $work"

for target in $targets; do
    dir="$work/$target"
    data="$dir/data"
    mkdir -p "$data"
    log="$dir/server.log"
    echo
    echo "=== $target ==="
    case "$target" in
    architect)
        # The timer stays off (the bench compacts on demand); days count as closed at once and
        # superseded files go at once, so the disk figures after compaction are final.
        printf 'compactor:\n  enabled: false\n  settle_secs: 0\n  grace_period_secs: 0\n' >"$dir/architect.yaml"
        "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" --config "$dir/architect.yaml" >"$log" 2>&1 &
        server_pid=$!
        for _ in $(seq 1 300); do
            [[ -s "$data/listen.addr" ]] && break
            sleep 0.1
        done
        addr="$(cat "$data/listen.addr" 2>/dev/null || true)"
        base="http://$addr"
        ready="$base/-/ready"
        url="$base/api/v1/push"
        ;;
    prometheus)
        port="$(free_port)"
        base="http://127.0.0.1:$port"
        printf 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' >"$dir/prometheus.yml"
        "$prometheus_bin" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$data" \
            --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver \
            --web.enable-admin-api >"$log" 2>&1 &
        server_pid=$!
        ready="$base/-/ready"
        url="$base/api/v1/write"
        ;;
    victoria-metrics)
        port="$(free_port)"
        base="http://127.0.0.1:$port"
        "$vm_bin" -storageDataPath="$data" -httpListenAddr="127.0.0.1:$port" -search.disableCache >"$log" 2>&1 &
        server_pid=$!
        ready="$base/health"
        url="$base/api/v1/write"
        ;;
    *)
        echo "unknown target $target" >&2
        failed=1
        continue
        ;;
    esac
    if ! wait_http "$ready" 60; then
        tail -20 "$log" >&2
        stop_server "$server_pid"
        server_pid=""
        printf '%s\tFAILED TO START\n' "$target" >>"$results"
        failed=1
        continue
    fi
    echo "  pid $server_pid, remote_write at $url"
    cpu0="$(cpu_secs "$server_pid")"

    status=ok
    # In the background so that the EXIT trap can stop it too.
    "$bin" bench ingest --url "$url" --profile "$profile" --connections "$connections" \
        --name "$target" "${extra_args[@]}" >"$dir/bench.log" 2>&1 &
    client_pid=$!
    if ! wait "$client_pid"; then
        status=FAILED
        failed=1
    fi
    client_pid=""
    cat "$dir/bench.log"
    result="$(grep '^RESULT ' "$dir/bench.log" | tail -1 || true)"
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }

    # Make everything durable, then let background work settle.
    case "$target" in
    architect) curl -fsS -X POST "$base/api/v1/admin/flush" -o "$dir/flush.json" || echo "  flush failed" >&2 ;;
    victoria-metrics) curl -fsS "$base/internal/force_flush" -o /dev/null || echo "  force_flush failed" >&2 ;;
    prometheus) ;; # the snapshot below writes the head out as a block
    esac
    sleep "$settle"
    cpu1="$(cpu_secs "$server_pid")"

    # Whole data directory, and the part holding the long-term format.
    total_bytes="$(du_bytes "$data")"
    case "$target" in
    architect) store_bytes="$(du_bytes "$data/objects")" ;;
    prometheus)
        # TSDB blocks as Prometheus would keep them: a snapshot writes the head out as a block.
        snap="$(curl -fsS -X POST "$base/api/v1/admin/tsdb/snapshot" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')"
        if [[ -n "$snap" ]]; then store_bytes="$(du_bytes "$data/snapshots/$snap")"; else store_bytes=0; fi
        # The snapshot hard-links existing blocks: count the directory without it.
        total_bytes="$(du -sb --exclude=snapshots "$data" | awk '{ print $1 }')"
        ;;
    *) store_bytes="$total_bytes" ;;
    esac
    hwm_kb="$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || echo 0)"

    # Read back: the number of series at the last scrape, and (where PromQL is served) the samples
    # of node_cpu_seconds_total in the last ~hour: a 3590 s window, so no scrape sits on its
    # boundary whatever the range semantics. (One metric name only: Prometheus 2 refuses
    # count_over_time over names whose other labels collide.)
    check="-"
    last_ms="$(field last_ms)"
    if [[ -n "$last_ms" ]]; then
        first_ms="$(field first_ms)"
        at="$(awk -v m="$last_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
        want_series="$(field series)"
        steps=$(($(field samples) / (want_series > 0 ? want_series : 1)))
        interval_ms=$(((last_ms - first_ms) / (steps > 1 ? steps - 1 : 1)))
        window_steps=$((3590000 / (interval_ms > 0 ? interval_ms : 1) + 1))
        window_steps=$((steps < window_steps ? steps : window_steps))
        series="$(query "$base" 'count({job="node"})' "$at")"
        if [[ -n "$series" ]]; then
            cpu_series="$(query "$base" 'count(node_cpu_seconds_total)' "$at")"
            cpu_samples="$(query "$base" 'sum(count_over_time(node_cpu_seconds_total[3590s]))' "$at")"
            want_cpu=$((${cpu_series:-0} * window_steps))
            echo "  read back: $series series at the last scrape (sent $want_series); node_cpu_seconds_total: ${cpu_samples:-?} samples in the last hour (expected $want_cpu)"
            if [[ "$series" == "$want_series" && "$cpu_samples" == "$want_cpu" && "$want_cpu" -gt 0 ]]; then
                check=ok
            else
                check="MISMATCH series=$series/$want_series cpu_samples=${cpu_samples:-?}/$want_cpu"
            fi
        else
            # No PromQL endpoint: count series through the series API.
            series="$(curl -fsS --max-time 120 -G "$base/api/v1/series" --data-urlencode 'match[]={job="node"}' \
                --data-urlencode "start=$((first_ms / 1000))" --data-urlencode "end=$at" 2>/dev/null |
                grep -o '"__name__"' | wc -l)"
            echo "  read back (series API, no PromQL): $series series (sent $want_series)"
            if [[ "$series" == "$want_series" ]]; then check="series ok"; else check="MISMATCH series=$series/$want_series"; fi
        fi
    fi
    if [[ "${BENCH_QUERY:-1}" == 1 && -n "$last_ms" ]]; then
        # Peak RSS of the query phase alone: reset the high-water mark first (Linux: 5 > clear_refs).
        echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true
        if "$bin" bench query --url "$base" --first-ms "$first_ms" --last-ms "$last_ms" \
            --runs "${BENCH_QUERY_RUNS:-5}" --name "$target" >"$dir/query.log" 2>&1; then
            sed 's/^/  /' "$dir/query.log"
            grep '^QUERY ' "$dir/query.log" >>"$work/queries.txt" || true
            printf '%s %s\n' "$target" "$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || echo 0)" >>"$work/query_rss.txt"
        else
            echo "  query benchmark failed:" >&2
            tail -5 "$dir/query.log" >&2
            failed=1
        fi
    fi
    if [[ "$target" == architect && "${BENCH_COMPACT:-1}" == 1 ]]; then
        c0="$(cpu_secs "$server_pid")"
        r0="$(object_requests "$base")"
        if curl -fsS --max-time 3600 -X POST "$base/api/v1/admin/compact" -o "$dir/compact.json"; then
            c1="$(cpu_secs "$server_pid")"
            r1="$(object_requests "$base")"
            compact_total="$(du_bytes "$data")"
            python3 - "$dir/compact.json" "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" "$compact_total" "$(field samples)" <<'PYEOF2' | tee -a "$work/compaction.txt"
import json, sys
r = json.load(open(sys.argv[1]))
cpu, total, sent = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4] or 0)
smp = max(r["output_samples"], 1)
secs = max(r["duration_ms"], 1) / 1000
print(f"  compaction: {r['input_blocks']} blocks -> {r['output_blocks']} raw + {r['downsampled_blocks']} downsampled in {secs:.1f} s")
print(f"  compacted raw files: {r['output_bytes'] / smp:.3f} B/sample ({r['output_bytes']} B for {r['output_samples']} samples); downsampled {r['downsampled_bytes']} B")
print(f"  whole data directory after compaction and GC: {total / max(sent, 1):.3f} B/sample")
print(f"  throughput: {smp / secs:,.0f} samples/s wall, {smp / max(cpu, 0.01):,.0f} samples per server CPU-second ({cpu:.1f} s)")
PYEOF2
            echo "  object-store requests of the compaction (as S3 bills them): $(requests_delta "$r0" "$r1")" | tee -a "$work/compaction.txt"
            # The same queries once the day is compacted (its steady state once closed).
            if [[ "${BENCH_QUERY:-1}" == 1 && -n "$last_ms" ]]; then
                # Let the server return the compaction's memory first (its allocator's release
                # thread runs every 5 s), so that the peak below is the queries', not what the
                # compaction left resident (967 and 1351 MB in two runs of one build).
                sleep 6
                echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true
                if "$bin" bench query --url "$base" --first-ms "$first_ms" --last-ms "$last_ms" \
                    --runs "${BENCH_QUERY_RUNS:-5}" --name architect-compacted >"$dir/query-compacted.log" 2>&1; then
                    grep '^QUERY ' "$dir/query-compacted.log" >>"$work/queries.txt" || true
                    printf '%s %s\n' architect-compacted "$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || echo 0)" >>"$work/query_rss.txt"
                else
                    echo "  query benchmark over compacted data failed:" >&2
                    tail -5 "$dir/query-compacted.log" >&2
                    failed=1
                fi
            fi
        else
            echo "  compaction failed" >&2
            failed=1
        fi
    fi
    stop_server "$server_pid"
    server_pid=""
    if grep -qiE 'panic|fatal' "$log"; then
        echo "  server log mentions panic/fatal:" >&2
        grep -iE 'panic|fatal' "$log" | head -5 >&2
    fi

    samples="$(field samples)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$status" "${samples:-0}" \
        "$(field samples_per_sec)" "$(field p50_ms)" "$(field p99_ms)" "$(field errors)" \
        "$total_bytes" "$store_bytes" "$hwm_kb" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')" \
        "$(field seconds)" "$check" >>"$results"
done

echo
echo "Ingest benchmark, profile $profile, $connections connections, architect binary: $build; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
awk -F'\t' '
BEGIN {
    printf "%-17s %12s %9s %9s %7s %11s %13s %10s %9s  %s\n", "system", "samples/s", "p50 ms", "p99 ms", "errors", "disk B/smp", "stored B/smp", "peak RSS", "srv CPU s", "read-back"
}
NF < 4 { printf "%-17s %s\n", $1, $2; next }
{
    n = ($3 > 0) ? $3 : 1
    rate = ($2 == "ok") ? sprintf("%d", $4) : $2
    printf "%-17s %12s %9s %9s %7s %11.2f %13.2f %7.0f MB %9s  %s\n", $1, rate, $5, $6, $7, $8 / n, $9 / n, $10 / 1024, $11, $13
}' "$results"
echo "disk B/smp: whole data directory after flush / samples sent. stored B/smp: long-term format only"
echo "(architect: objects/ Parquet; prometheus: TSDB blocks of an admin snapshot incl. the head; victoria-metrics: whole dir)."
echo "srv CPU s: server user+system CPU during ingest+flush+settle. Client and server share the machine."
echo "read-back: series at the last scrape and node_cpu_seconds_total samples in the last hour match what was sent"
echo "(\"series ok\": the target serves no PromQL; its series API returned every series)."
if [[ -s "$work/queries.txt" ]]; then
    echo
    echo "Query benchmark: median ms of ${BENCH_QUERY_RUNS:-5} runs (day = whole data set, hour = its last hour; step 60 s); series/points of each answer in brackets"
    awk '
    {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        name = f["name"]; id = f["id"]
        if (!(name in seen)) { seen[name] = 1; names[++nn] = name }
        if (!(id in seenid)) { seenid[id] = 1; ids[++ni] = id }
        ms[name, id] = f["median_ms"]; size[name, id] = f["series"] "/" f["points"]
    }
    END {
        printf "%-26s", "query"
        for (j = 1; j <= nn; j++) printf " %28s", names[j]
        printf "\n"
        for (i = 1; i <= ni; i++) {
            printf "%-26s", ids[i]
            for (j = 1; j <= nn; j++) printf " %28s", sprintf("%s [%s]", ms[names[j], ids[i]], size[names[j], ids[i]])
            printf "\n"
        }
    }' "$work/queries.txt"
    awk '{ printf "peak RSS during queries, %s: %.0f MB\n", $1, $2 / 1024 }' "$work/query_rss.txt"
fi
if [[ -s "$work/compaction.txt" ]]; then
    echo
    echo "Compaction (architect, POST /api/v1/admin/compact after the ingest above):"
    cat "$work/compaction.txt"
fi

# median_ms URL PROMQL START END STEP RESOLUTION RUNS: median wall time of query_range, the runs
# over one kept-alive connection (as Grafana and the query benchmark's client make them), so a
# new connection and curl's start are not timed with each run.
median_ms() {
    local i url args=()
    url="$1/api/v1/query_range?$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode(dict(zip(["query", "start", "end", "step", "max_source_resolution"], sys.argv[1:]))))' "$2" "$3" "$4" "$5" "$6")"
    for ((i = 0; i < $7; i++)); do args+=(-o /dev/null "$url"); done
    { curl -fsS -w '%{time_total}\n' --max-time 300 "${args[@]}" || echo 999; } |
        sort -g | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }'
}

if [[ "${BENCH_LONG:-1}" == 1 && " $targets " == *" architect "* ]]; then
    long_series="${BENCH_LONG_SERIES:-1000}"
    long_days="${BENCH_LONG_DAYS:-30}"
    # The downsampled answers take about a millisecond, where a median of five swung by 2x
    # between runs on a busy machine; 21 runs cost seconds.
    long_runs="${BENCH_LONG_RUNS:-21}"
    dir="$work/long"
    data="$dir/data"
    mkdir -p "$data"
    echo
    echo "=== long range: $long_series series x $long_days days, compacted, query_range at a 1 h step ==="
    printf 'compactor:\n  enabled: false\n  settle_secs: 0\n  grace_period_secs: 0\n' >"$dir/architect.yaml"
    "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" --config "$dir/architect.yaml" >"$dir/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        [[ -s "$data/listen.addr" ]] && break
        sleep 0.1
    done
    base="http://$(cat "$data/listen.addr" 2>/dev/null || true)"
    if wait_http "$base/-/ready" 60 &&
        "$bin" bench ingest --url "$base/api/v1/push" --series "$long_series" --hours "$((long_days * 24))" \
            --connections "$connections" --name long >"$dir/bench.log" 2>&1 &&
        curl -fsS -X POST "$base/api/v1/admin/flush" -o /dev/null &&
        r0="$(object_requests "$base")" &&
        curl -fsS --max-time 3600 -X POST "$base/api/v1/admin/compact" -o "$dir/compact.json"; then
        r1="$(object_requests "$base")"
        result="$(grep '^RESULT ' "$dir/bench.log" | tail -1 || true)"
        first_s="$(($(sed -n 's/.* first_ms=\([^ ]*\).*/\1/p' <<<"$result") / 1000 + 3600))"
        last_s="$(($(sed -n 's/.* last_ms=\([^ ]*\).*/\1/p' <<<"$result") / 1000))"
        echo "  $(sed -n 's/.* samples=\([^ ]*\).*/\1/p' <<<"$result") samples; compaction report: $(cat "$dir/compact.json")"
        echo "  object-store requests of the compaction (as S3 bills them): $(requests_delta "$r0" "$r1")"
        printf '  %-58s %10s %12s %8s %16s\n' "query (${long_days} d, step 1h; median of ${long_runs})" "raw ms" "downsampled" "speedup" "GETs raw / ds"
        for q in 'sum(rate(node_network_receive_bytes_total[1h]))' \
            'max(max_over_time(node_load1[1h]))' \
            'avg(avg_over_time(process_resident_memory_bytes[1h]))' \
            'sum(increase(node_cpu_seconds_total[1d]))'; do
            raw="$(median_ms "$base" "$q" "$first_s" "$last_s" 1h raw "$long_runs")"
            auto="$(median_ms "$base" "$q" "$first_s" "$last_s" 1h auto "$long_runs")"
            # Object-store GETs of one more run of each (caches warm, as in the timed runs).
            gets=""
            for res in raw auto; do
                r0="$(object_requests "$base")"
                median_ms "$base" "$q" "$first_s" "$last_s" 1h "$res" 1 >/dev/null
                r1="$(object_requests "$base")"
                gets+="${gets:+ / }$(awk -v a="${r0%% *}" -v b="${r1%% *}" 'BEGIN { print b - a }')"
            done
            printf '  %-58s %10s %12s %7.1fx %16s\n' "$q" "$raw" "$auto" "$(awk -v a="$raw" -v b="$auto" 'BEGIN { print a / (b > 0 ? b : 1) }')" "$gets"
        done
    else
        echo "  long-range step failed:" >&2
        tail -5 "$dir/server.log" "$dir/bench.log" >&2 2>/dev/null || true
        failed=1
    fi
    stop_server "$server_pid"
    server_pid=""
fi
exit "$failed"
