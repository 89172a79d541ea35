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
        "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" >"$log" 2>&1 &
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
exit "$failed"
