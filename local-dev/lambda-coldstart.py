#!/usr/bin/env python3
"""Cold-start time of the Lambda functions, measured locally.

    local-dev/lambda-coldstart.py [--runs N] [--memory MB] [FUNCTION=PATH ...]

Runs each function's `bootstrap` (taken out of its bootstrap.zip, as Lambda would) as a fresh
process against a minimal Lambda Runtime API served here on loopback, RUNS times, and reports per
function the median and maximum of

  init   process start -> its first `GET /2018-06-01/runtime/invocation/next`
         (what Lambda bills as Init Duration: the function's own start-up, SDK clients built)
  first  process start -> the answer to its first event (`.../response` or `.../error`)

The first event is a small API Gateway (HTTP API, payload 2.0) request: `GET /-/healthy` for
query, `GET /-/ready` for ingest, a REQUEST-authorizer event with an unknown bearer token for
authorizer (one DynamoDB GetItem against the emulator). S3 and DynamoDB are a moto server this
script starts on a free loopback port (`moto_server` on PATH) with bucket and table `coldstart`, and
stops again by its PID. AWS credentials and region are static environment variables, so the SDK
never looks for instance metadata.

Arguments name functions and their zips or binaries, e.g. `query=target/lambda/query/bootstrap.zip`;
without any, it takes `$CARGO_TARGET_DIR/lambda/{ingest,query,authorizer}/bootstrap.zip`
(CARGO_TARGET_DIR defaults to ~/.cache/monitoring-architect/target). `--json FILE` also writes the
raw figures. This measures process start-up on this machine, not Lambda's own overhead
(downloading and unpacking the zip, starting the sandbox), which comes on top in AWS.
"""

import argparse
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile

FUNCTIONS = ["ingest", "query", "authorizer"]
PREFIX = "/2018-06-01/runtime"
# S3 wants bucket names of 3 characters or more.
BUCKET = "coldstart"
TABLE = "coldstart"


def http_event(method, path):
    now = int(time.time() * 1000)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "*/*", "host": "example.execute-api.us-east-1.amazonaws.com",
                    "user-agent": "coldstart"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "example",
            "domainName": "example.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "example",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "coldstart"},
            "requestId": "coldstart",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now,
        },
        "isBase64Encoded": False,
    }


def authorizer_event():
    event = http_event("POST", "/api/v1/push")
    event.update({
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:example/$default/POST/api/v1/push",
        "identitySource": ["Bearer not-a-known-token"],
        "routeKey": "POST /api/v1/push",
    })
    event["headers"]["authorization"] = "Bearer not-a-known-token"
    return event


EVENTS = {
    "ingest": http_event("GET", "/-/ready"),
    "query": http_event("GET", "/-/healthy"),
    "authorizer": authorizer_event(),
}


class Run:
    """What the runtime API saw during one process's life."""

    def __init__(self, event):
        self.event = json.dumps(event).encode()
        self.first_next = None
        self.answered = None
        self.outcome = None
        self.body = b""
        self.served = False
        self.done = threading.Event()


class RuntimeApi(http.server.ThreadingHTTPServer):
    """One per process, so that a late poll of a killed process cannot take the next one's
    event."""

    daemon_threads = True
    run = None

    def handle_error(self, request, client_address):
        pass  # the killed process's held poll: broken pipes and resets are expected


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        now = time.monotonic()
        run = self.server.run
        if self.path != f"{PREFIX}/invocation/next" or run is None:
            return self.reply(404)
        if run.first_next is None:
            run.first_next = now
        if run.served:
            # Only one event per process: hold the next poll until the process is killed.
            run.done.wait(30)
            return self.reply(500)
        run.served = True
        deadline = int(time.time() * 1000) + 30_000
        self.reply(200, run.event, [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", "coldstart-1"),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             "arn:aws:lambda:us-east-1:123456789012:function:coldstart"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ])

    def do_POST(self):
        now = time.monotonic()
        run = self.server.run
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if run is not None and run.answered is None:
            if self.path.endswith("/response"):
                run.outcome = "response"
            elif self.path.endswith("/init/error"):
                run.outcome = "init-error"
            elif self.path.endswith("/error"):
                run.outcome = "error"
            if run.outcome:
                run.answered = now
                run.body = body
                run.done.set()
        self.reply(202, b"{}", [("Content-Type", "application/json")])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def prepare_emulator(endpoint):
    """Bucket `b` and table `t` in the emulator (boto3 comes with moto)."""
    import boto3
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="x", aws_secret_access_key="y")
    boto3.client("s3", **kw).create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb", **kw).create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])


def binary_of(path, workdir, name):
    """The bootstrap binary: out of the zip (as Lambda unpacks it), or the path itself."""
    if not path.endswith(".zip"):
        return path
    out = os.path.join(workdir, name)
    os.makedirs(out, exist_ok=True)
    with zipfile.ZipFile(path) as z:
        z.extract("bootstrap", out)
    binary = os.path.join(out, "bootstrap")
    os.chmod(binary, 0o755)
    return binary


def measure(binary, name, env, timeout):
    run = Run(EVENTS[name])
    server = RuntimeApi(("127.0.0.1", 0), Handler)
    server.run = run
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    start = time.monotonic()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            answered = run.done.wait(timeout)
        finally:
            proc.kill()
            proc.wait()
            run.done.set()
            server.shutdown()
            server.server_close()
        log.seek(0)
        output = log.read().decode(errors="replace")
    if not answered or run.first_next is None:
        raise RuntimeError(f"{name}: no answer within {timeout} s; its output:\n{output}")
    return {
        "init_ms": (run.first_next - start) * 1000,
        "first_ms": (run.answered - start) * 1000,
        "outcome": run.outcome,
        "body": run.body.decode(errors="replace")[:300],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("functions", nargs="*", metavar="FUNCTION=PATH")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--memory", default="512", help="AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR",
                            os.path.expanduser("~/.cache/monitoring-architect/target"))
    if args.functions:
        functions = dict(f.split("=", 1) for f in args.functions)
    else:
        functions = {f: os.path.join(target, "lambda", f, "bootstrap.zip") for f in FUNCTIONS}
    for name, path in functions.items():
        if name not in EVENTS:
            raise SystemExit(f"unknown function {name} (one of {', '.join(EVENTS)})")
        if not os.path.exists(path):
            raise SystemExit(f"{path} does not exist: build it first (local-dev/build-lambdas.sh)")

    moto_port = free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    try:
        wait_http(f"{endpoint}/moto-api/")
        prepare_emulator(endpoint)
        with tempfile.TemporaryDirectory() as workdir:
            for name, path in functions.items():
                binary = binary_of(path, workdir, name)
                env = {
                    "PATH": "/usr/bin:/bin",
                    "AWS_LAMBDA_FUNCTION_NAME": name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": args.memory,
                    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
                    "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                    "ARCHITECT_BUCKET": BUCKET,
                    "ARCHITECT_TABLE": TABLE,
                    "ARCHITECT_S3_PATH_STYLE": "true",
                    "AWS_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "x",
                    "AWS_SECRET_ACCESS_KEY": "y",
                    "AWS_ENDPOINT_URL": endpoint,
                    "TZ": ":UTC",
                    "LANG": "en_US.UTF-8",
                }
                # One unmeasured run first, so that every measured run finds the binary in
                # the page cache, as a warm Lambda host would.
                measure(binary, name, env, args.timeout)
                runs = [measure(binary, name, env, args.timeout)
                        for _ in range(args.runs)]
                results[name] = runs
    finally:
        moto.terminate()
        try:
            moto.wait(10)
        except subprocess.TimeoutExpired:
            moto.kill()

    print(f"{'function':<11} {'runs':>4} {'init median':>12} {'init max':>9} "
          f"{'first median':>13} {'first max':>10}  first answer")
    for name, runs in results.items():
        init = [r["init_ms"] for r in runs]
        first = [r["first_ms"] for r in runs]
        outcomes = sorted({r["outcome"] for r in runs})
        print(f"{name:<11} {len(runs):>4} {statistics.median(init):>9.1f} ms "
              f"{max(init):>6.1f} ms {statistics.median(first):>10.1f} ms "
              f"{max(first):>7.1f} ms  {'/'.join(outcomes)}: {runs[-1]['body'][:80]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
