#!/usr/bin/env bash
# Local S3 + DynamoDB emulator (moto server) for running architect against "AWS" on one machine.
#
#   local-dev/emulator.sh start    start moto on 127.0.0.1:$EMULATOR_PORT (default 4566, the
#                                  LocalStack port) unless it runs already, then create the
#                                  bucket and table "architect" if they are missing
#   local-dev/emulator.sh stop     stop the moto started here (by its PID file)
#   local-dev/emulator.sh status   say whether it runs
#
# State (PID file, log) lives in ${EMULATOR_STATE_DIR:-./data/emulator}. moto keeps everything
# in memory: stop loses the data. Installs moto[server] with pip when moto_server is missing.
# Point architect at it with:
#   AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 \
#   AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
set -euo pipefail

PORT="${EMULATOR_PORT:-4566}"
STATE_DIR="${EMULATOR_STATE_DIR:-./data/emulator}"
PID_FILE="$STATE_DIR/moto.pid"
LOG_FILE="$STATE_DIR/moto.log"
ENDPOINT="http://127.0.0.1:$PORT"
NAME="architect"

# PID of our running moto, or nothing (a stale PID file, or a PID reused by another program,
# does not count).
running_pid() {
    [[ -f "$PID_FILE" ]] || return 0
    local pid
    pid="$(cat "$PID_FILE")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        ps -p "$pid" -o args= | grep -q moto; then
        echo "$pid"
    fi
}

answers() {
    python3 - "$ENDPOINT" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
EOF
}

# The command that runs moto server; installs moto[server] with pip when it is missing.
moto_command() {
    if command -v moto_server >/dev/null 2>&1; then
        echo moto_server
        return
    fi
    if ! python3 -c 'import moto.server, boto3' >/dev/null 2>&1; then
        echo "moto_server not found; installing moto[server] with pip" >&2
        python3 -m pip install --quiet 'moto[server]' >&2
        hash -r
    fi
    if command -v moto_server >/dev/null 2>&1; then
        echo moto_server
    else
        # pip may put scripts in a directory outside PATH; the module runs the same server.
        echo "python3 -m moto.server"
    fi
}

# A Python with boto3: the one moto_server runs on (tests/run.sh installs moto into its own
# virtualenv), else python3.
boto3_python() {
    local moto py
    if moto="$(command -v moto_server 2>/dev/null)"; then
        py="$(dirname "$(readlink -f "$moto")")/python3"
        if [[ -x "$py" ]] && "$py" -c 'import boto3' >/dev/null 2>&1; then
            echo "$py"
            return
        fi
    fi
    echo python3
}

# Creates the bucket and the table (pk/sk strings, on-demand, TTL on ttl) unless they exist.
create_resources() {
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
        "$(boto3_python)" - "$ENDPOINT" "$NAME" <<'EOF'
import sys
import boto3

endpoint, name = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint)
if name not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=name)
    print(f"created bucket {name}")

ddb = boto3.client("dynamodb", endpoint_url=endpoint)
if name not in ddb.list_tables()["TableNames"]:
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=name)
    print(f"created table {name}")
ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
    ddb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
    )
    print(f"enabled TTL on {name}.ttl")
EOF
}

start() {
    mkdir -p "$STATE_DIR"
    local pid
    pid="$(running_pid)"
    if [[ -z "$pid" ]]; then
        if answers; then
            echo "something else already answers on $ENDPOINT; not starting moto" >&2
            exit 1
        fi
        local command
        command="$(moto_command)"
        # shellcheck disable=SC2086 # the command may be "python3 -m moto.server"
        nohup $command -H 127.0.0.1 -p "$PORT" >"$LOG_FILE" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$PID_FILE"
        for _ in $(seq 1 100); do
            answers && break
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "moto exited; see $LOG_FILE" >&2
                rm -f "$PID_FILE"
                exit 1
            fi
            sleep 0.2
        done
        answers || {
            echo "moto did not answer on $ENDPOINT within 20 s; see $LOG_FILE" >&2
            exit 1
        }
        echo "moto started on $ENDPOINT (PID $pid)"
    else
        echo "moto already running on $ENDPOINT (PID $pid)"
    fi
    create_resources
}

stop() {
    local pid
    pid="$(running_pid)"
    if [[ -z "$pid" ]]; then
        echo "moto not running"
        rm -f "$PID_FILE"
        return 0
    fi
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
    fi
    rm -f "$PID_FILE"
    echo "moto stopped (PID $pid)"
}

status() {
    local pid
    pid="$(running_pid)"
    if [[ -n "$pid" ]]; then
        echo "moto running on $ENDPOINT (PID $pid)"
    else
        echo "moto not running"
        return 3
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
