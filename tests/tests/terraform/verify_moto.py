"""Checks, through the AWS APIs of a moto server, that `terraform apply` of
terraform/examples/complete created what the module promises.

Usage: verify_moto.py ENDPOINT_URL OUTPUTS_JSON   after apply (OUTPUTS_JSON: `terraform output -json`)
       verify_moto.py ENDPOINT_URL --destroyed     after destroy: nothing of it is left
Run by tests/tests/terraform.rs; prints one line per check and exits non-zero on the first miss.
"""

import json
import sys

import boto3

endpoint, what = sys.argv[1], sys.argv[2]
region = "us-east-1"


def client(service):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
    if not ok:
        sys.exit(1)


def verify_destroyed():
    check("no bucket left", not client("s3").list_buckets()["Buckets"])
    check("no table left", not client("dynamodb").list_tables()["TableNames"])
    check("no function left", not client("lambda").list_functions()["Functions"])
    roles = [r["RoleName"] for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith("architect-")]
    check("no role left", not roles, roles)
    check("no API left", not client("apigatewayv2").get_apis()["Items"])
    check("no schedule left", not client("events").list_rules()["Rules"])
    check("no queue left", not client("sqs").list_queues().get("QueueUrls"))
    # A deleted cluster stays listed as INACTIVE for a while (in AWS as in moto).
    ecs = client("ecs")
    arns = ecs.list_clusters()["clusterArns"]
    active = [c["clusterName"] for c in ecs.describe_clusters(clusters=arns)["clusters"] if c["status"] != "INACTIVE"] if arns else []
    check("no active ECS cluster left", not active, active)
    check("no EFS left", not client("efs").describe_file_systems()["FileSystems"])
    check("no Cloud Map namespace left", not client("servicediscovery").list_namespaces()["Namespaces"])
    vpcs = [v["VpcId"] for v in client("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    check("no VPC left", not vpcs, vpcs)
    print("nothing left")
    sys.exit(0)


if what == "--destroyed":
    verify_destroyed()

out = {k: v["value"] for k, v in json.load(open(what)).items()}

# --- S3 ---
s3 = client("s3")
bucket = out["bucket_name"]
s3.head_bucket(Bucket=bucket)
pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
check("bucket blocks public access", all(pab.values()), pab)
sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
check("bucket is encrypted", sse[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", sse)
rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
check(
    "lifecycle aborts incomplete multipart uploads",
    any(r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation", 0) >= 1 for r in rules),
    rules,
)
check("lifecycle expires noncurrent versions", any("NoncurrentVersionExpiration" in r for r in rules), rules)
check("bucket is versioned", s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled")
check("bucket policy denies plain HTTP", "aws:SecureTransport" in s3.get_bucket_policy(Bucket=bucket)["Policy"])

# --- DynamoDB ---
ddb = client("dynamodb")
table = ddb.describe_table(TableName=out["table_name"])["Table"]
keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
check("table keys are pk (HASH) and sk (RANGE)", keys == {"pk": "HASH", "sk": "RANGE"}, keys)
check("table is on-demand", table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", table)
check("table has no GSIs", not table.get("GlobalSecondaryIndexes"), table)
check("table is encrypted", table.get("SSEDescription", {}).get("Status") == "ENABLED", table)
pitr = ddb.describe_continuous_backups(TableName=out["table_name"])["ContinuousBackupsDescription"]
check("table has PITR", pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", pitr)
ttl = ddb.describe_time_to_live(TableName=out["table_name"])["TimeToLiveDescription"]
check("table TTL on `ttl`", ttl.get("AttributeName") == "ttl" and ttl["TimeToLiveStatus"] == "ENABLED", ttl)

# --- IAM and Lambda ---
iam = client("iam")
lam = client("lambda")
functions = out["function_names"]
check("all six functions", sorted(functions) == ["alerts", "authorizer", "compact", "ingest", "query", "rules"], functions)
for name, fn in functions.items():
    role = out["function_role_arns"][name].split("/")[-1]
    policies = iam.list_role_policies(RoleName=role)["PolicyNames"]
    check(f"role of {name} has its inline policy", len(policies) == 1, policies)
    doc = json.dumps(iam.get_role_policy(RoleName=role, PolicyName=policies[0])["PolicyDocument"])
    check(f"{name} may not use s3:* or dynamodb:*", '"s3:*"' not in doc and '"dynamodb:*"' not in doc, doc)
    if name == "authorizer":
        check("authorizer may only GetItem", "dynamodb:GetItem" in doc and "s3:" not in doc and "PutItem" not in doc, doc)
    if name == "query":
        statements = iam.get_role_policy(RoleName=role, PolicyName=policies[0])["PolicyDocument"]["Statement"]
        writes = [st for st in statements if "dynamodb:PutItem" in json.dumps(st)]
        check("query cannot write data", "PutObject" not in doc and "TransactWriteItems" not in doc, doc)
        check("query writes only rule and alertmanager items", len(writes) == 1 and "dynamodb:LeadingKeys" in json.dumps(writes[0].get("Condition", {})), writes)
    conf = lam.get_function_configuration(FunctionName=fn)
    check(f"{name} runs provided.al2023 bootstrap", conf["Runtime"] == "provided.al2023" and conf["Handler"] == "bootstrap", conf)
    env = conf["Environment"]["Variables"]
    for var in ["ARCHITECT_BUCKET", "ARCHITECT_TABLE", "ARCHITECT_DEFAULT_TENANT", "ARCHITECT_LOG_FORMAT", "ARCHITECT_LOG"]:
        check(f"{name} has {var}", var in env, env)
    check(f"{name} ARCHITECT_BUCKET", env["ARCHITECT_BUCKET"] == bucket, env)
    in_vpc = bool(conf.get("VpcConfig", {}).get("SubnetIds"))
    if name in ("ingest", "query", "rules"):
        check(f"{name} has ARCHITECT_INGESTER_URL", env.get("ARCHITECT_INGESTER_URL") == out["ingester_url"], env)
        check(f"{name} runs in the VPC", in_vpc, conf)
    else:
        check(f"{name} has no ingester URL and no VPC", "ARCHITECT_INGESTER_URL" not in env and not in_vpc, conf)
    if name in ("query", "rules", "alerts"):
        check(f"{name} has ARCHITECT_ALERT_QUEUE", env.get("ARCHITECT_ALERT_QUEUE", "").endswith("-alert-wakeups"), env)
        check(f"{name} may send wake-ups", "sqs:SendMessage" in doc, doc)
    else:
        check(f"{name} has no alert queue", "ARCHITECT_ALERT_QUEUE" not in env and "sqs:" not in doc, doc)

# --- SQS: alert wake-ups ---
sqs = client("sqs")
queue_url = lam.get_function_configuration(FunctionName=functions["alerts"])["Environment"]["Variables"]["ARCHITECT_ALERT_QUEUE"]
attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
check("wake-up queue encrypted", attrs.get("SqsManagedSseEnabled") == "true", attrs)
# (All mappings: moto filters by FunctionName only when given the function's ARN.)
mappings = lam.list_event_source_mappings()["EventSourceMappings"]
check(
    "wake-up queue triggers the alerts function",
    any(m["EventSourceArn"] == attrs["QueueArn"] and m["FunctionArn"].endswith(":function:" + functions["alerts"]) for m in mappings),
    (attrs.get("QueueArn"), mappings),
)

logs = client("logs")
groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
for fn in functions.values():
    g = groups.get(f"/aws/lambda/{fn}")
    check(f"log group of {fn} with retention", g is not None and g.get("retentionInDays", 0) > 0, g)

# --- EventBridge ---
events = client("events")
rule = events.describe_rule(Name=out["schedule_rule_names"]["compact"])
check("compact schedule", rule["ScheduleExpression"] == "rate(15 minutes)", rule)
targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
check("schedule targets compact", any(t["Arn"].endswith(":function:" + functions["compact"]) for t in targets), targets)
rule = events.describe_rule(Name=out["schedule_rule_names"]["rules"])
check("rules schedule", rule["ScheduleExpression"] == "rate(1 minute)", rule)
targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
check("schedule targets rules", any(t["Arn"].endswith(":function:" + functions["rules"]) for t in targets), targets)
rule = events.describe_rule(Name=out["schedule_rule_names"]["alerts"])
check("alerts schedule", rule["ScheduleExpression"] == "rate(1 minute)", rule)

# --- API Gateway ---
apigw = client("apigatewayv2")
api_id = out["api_url"].split("//")[1].split(".")[0]
routes = {r["RouteKey"]: r for r in apigw.get_routes(ApiId=api_id)["Items"]}
expected = ["POST /api/v1/push", "POST /api/v1/write", "POST /otlp/v1/metrics", "ANY /api/v1/{proxy+}",
            "ANY /prometheus/{proxy+}", "ANY /config/v1/{proxy+}", "ANY /api/v2/{proxy+}",
            "ANY /alertmanager/{proxy+}", "GET /-/healthy", "GET /-/ready"]
check("every route exists", sorted(routes) == sorted(expected), sorted(routes))
for key, r in routes.items():
    want = "NONE" if key.startswith("GET /-/") else "CUSTOM"
    check(f"route {key} authorization {want}", r.get("AuthorizationType", "NONE") == want, r)
# moto has no GetAuthorizers (list); read the one the authorized routes name.
authorizer_ids = {r["AuthorizerId"] for r in routes.values() if r.get("AuthorizationType") == "CUSTOM"}
check("one authorizer guards every authorized route", len(authorizer_ids) == 1, authorizer_ids)
a = apigw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_ids.pop())
check("authorizer is REQUEST", a["AuthorizerType"] == "REQUEST", a)
check("authorizer reads the Authorization header", a["IdentitySource"] == ["$request.header.Authorization"], a)
check("authorizer payload 2.0, simple responses", a["AuthorizerPayloadFormatVersion"] == "2.0" and a["EnableSimpleResponses"], a)
check("authorizer cache TTL 300 s", a.get("AuthorizerResultTtlInSeconds") == 300, a)
integrations = apigw.get_integrations(ApiId=api_id)["Items"]
check("integrations are proxy 2.0", all(i["IntegrationType"] == "AWS_PROXY" and i["PayloadFormatVersion"] == "2.0" for i in integrations), integrations)

# --- the ingester: ECS, EFS, Cloud Map, endpoints ---
ecs = client("ecs")
svc = ecs.describe_services(cluster=out["ingester_cluster_name"], services=[out["ingester_service_name"]])["services"][0]
check("ingester service runs one Fargate task", svc["desiredCount"] == 1 and svc["launchType"] == "FARGATE", svc)
check("ingester service registers in Cloud Map", len(svc.get("serviceRegistries", [])) == 1, svc)
td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
c = td["containerDefinitions"][0]
env = {e["name"]: e["value"] for e in c["environment"]}
check("ingester listens on 9009", env.get("ARCHITECT_LISTEN") == "0.0.0.0:9009", env)
check("ingester WAL on /data", env.get("ARCHITECT_DATA_DIR") == "/data" and c["mountPoints"][0]["containerPath"] == "/data", c)
check("ingester health check /-/ready", "/-/ready" in " ".join(c["healthCheck"]["command"]), c)
vol = td["volumes"][0]["efsVolumeConfiguration"]
check("WAL volume is EFS with TLS and an access point", vol["transitEncryption"] == "ENABLED" and vol["authorizationConfig"]["accessPointId"], vol)

efs = client("efs")
fs = efs.describe_file_systems(FileSystemId=out["wal_file_system_id"])["FileSystems"][0]
check("EFS is encrypted", fs["Encrypted"], fs)
mts = efs.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"]
check("one EFS mount target per private subnet", len(mts) == 2, mts)
aps = efs.describe_access_points(FileSystemId=fs["FileSystemId"])["AccessPoints"]
check("one EFS access point", len(aps) == 1, aps)

sd = client("servicediscovery")
namespaces = [n["Name"] for n in sd.list_namespaces()["Namespaces"]]
check("Cloud Map namespace architect.internal", "architect.internal" in namespaces, namespaces)
check("ingester URL is its Cloud Map name", out["ingester_url"] == "http://ingester.architect.internal:9009", out["ingester_url"])

ec2 = client("ec2")
eps = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [out["vpc_id"]]}])["VpcEndpoints"]
by_type = sorted((e["ServiceName"].split(".", 3)[-1], e["VpcEndpointType"]) for e in eps)
check(
    "gateway endpoints for S3 and DynamoDB, interface endpoints for ECR, Logs and SQS",
    by_type == [("dynamodb", "Gateway"), ("ecr.api", "Interface"), ("ecr.dkr", "Interface"), ("logs", "Interface"), ("s3", "Gateway"), ("sqs", "Interface")],
    by_type,
)
nat = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [out["vpc_id"]]}])["NatGateways"]
check("no NAT gateway", not nat, nat)

groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [out["vpc_id"]]}])["SecurityGroups"]}
ids = {n: g["GroupId"] for n, g in groups.items()}


def ingress_from(group, port, source):
    return any(
        p.get("FromPort") == port and any(u["GroupId"].split("/")[-1] == ids[source] for u in p.get("UserIdGroupPairs", []))
        for p in groups[group]["IpPermissions"]
    )


check("ingester SG accepts the lambda SG on 9009", ingress_from("architect-ingester", 9009, "architect-lambda"), groups["architect-ingester"])
check("EFS SG accepts the ingester SG on 2049", ingress_from("architect-efs", 2049, "architect-ingester"), groups["architect-efs"])
check("endpoints SG accepts the lambda SG on 443 (SQS)", ingress_from("architect-endpoints", 443, "architect-lambda"), groups["architect-endpoints"])

print("all checks passed")
