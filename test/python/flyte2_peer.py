"""An independent Flyte 2 peer: Python grpcio with the stubs protoc and grpc_python_plugin generate
from flyteidl2's descriptors, calling a running server as Flyte 2's executor does (connector plugin,
flyteplugins/go/tasks/plugins/webapi/connector/plugin.go on flyteorg/flyte main): the connection with
resolved secrets on Create/Get/Delete, inputs as named literals. Prints what it saw as one JSON object.
The secret is never printed: only whether the agent's hash of it matches, and whether any answer
carried it.

usage: flyte2_peer.py ADDRESS GENERATED_DIR SECRET
"""

import hashlib
import json
import sys

sys.path.insert(0, sys.argv[2])

import grpc  # noqa: E402
from flyteidl2.connector import connector_pb2, service_pb2_grpc  # noqa: E402
from flyteidl2.core import interface_pb2, literals_pb2, security_pb2, tasks_pb2, types_pb2  # noqa: E402
from flyteidl2.task import common_pb2  # noqa: E402

address, _, secret = sys.argv[1:4]
channel = grpc.insecure_channel(address)
tasks = service_pb2_grpc.AsyncConnectorServiceStub(channel)
metadata = service_pb2_grpc.ConnectorMetadataServiceStub(channel)
answers = []  # every answer's bytes, to look for the secret in


def keep(message):
    answers.append(message.SerializeToString())
    return message


def integer(n):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=n)))


def string(s):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=s)))


def template(task_type, inputs, outputs):
    # Flyte 2's VariableMap is an ordered list of entries (flyteidl2/core/interface.proto).
    def variables(spec):
        return interface_pb2.VariableMap(
            variables=[
                interface_pb2.VariableEntry(key=name, value=interface_pb2.Variable(type=types_pb2.LiteralType(simple=kind)))
                for name, kind in spec.items()
            ]
        )

    return tasks_pb2.TaskTemplate(
        type=task_type,
        interface=interface_pb2.TypedInterface(inputs=variables(inputs), outputs=variables(outputs)),
    )


def plain(literal):
    p = literal.scalar.primitive
    return getattr(p, p.WhichOneof("value"))


def resource_of(r):
    return {
        "phase": r.phase,
        "message": r.message,
        "outputs": [[o.name, plain(o.value)] for o in r.outputs.literals],
        "log_links": [[l.name, l.uri] for l in r.log_links],
        "custom_info": dict(r.custom_info),
    }


def failure(fn):
    try:
        fn()
    except grpc.RpcError as err:
        return {"code": err.code().name, "details": err.details()}
    return None


connection = security_pb2.Connection(task_type="warehouse", secrets={"api_key": secret}, configs={"region": "eu"})
category = connector_pb2.TaskCategory(name="warehouse", version=0)
INT, STR, BOOL = types_pb2.INTEGER, types_pb2.STRING, types_pb2.BOOLEAN
seen = {}

listed = keep(metadata.ListConnectors(connector_pb2.ListConnectorsRequest(), timeout=10))
seen["connectors"] = sorted(
    [c.name, [f"{t.name}_v{t.version}" for t in c.supported_task_categories]] for c in listed.connectors
)
seen["get_connector"] = keep(
    metadata.GetConnector(connector_pb2.GetConnectorRequest(name="WarehouseAgent"), timeout=10)
).connector.name

created = keep(
    tasks.CreateTask(
        connector_pb2.CreateTaskRequest(
            template=template("warehouse", {"n": INT, "label": STR}, {"rows": INT, "table": STR}),
            inputs=common_pb2.Inputs(
                literals=[
                    common_pb2.NamedLiteral(name="n", value=integer(7)),
                    common_pb2.NamedLiteral(name="label", value=string("py")),
                ]
            ),
            output_prefix="s3://bucket/run/0",
            connection=connection,
        ),
        timeout=10,
    )
)
seen["resource_meta"] = created.resource_meta.decode()
got = keep(
    tasks.GetTask(
        connector_pb2.GetTaskRequest(
            resource_meta=created.resource_meta, task_category=category, output_prefix="s3://bucket/run/0", connection=connection
        ),
        timeout=10,
    )
)
seen["get"] = resource_of(got.resource)
seen["secret_hash_matches"] = got.resource.custom_info["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
keep(
    tasks.DeleteTask(
        connector_pb2.DeleteTaskRequest(resource_meta=created.resource_meta, task_category=category, connection=connection),
        timeout=10,
    )
)
seen["deleted"] = True

logs = []
for m in tasks.GetTaskLogs(
    connector_pb2.GetTaskLogsRequest(resource_meta=created.resource_meta, lines=10, task_category=category), timeout=10
):
    keep(m)
    if m.HasField("header"):
        logs.append({"token": m.header.token})
    else:
        logs.append(
            {"lines": [[l.message, l.originator, l.timestamp.seconds, l.timestamp.nanos] for l in m.body.lines]}
        )
seen["logs"] = logs

metrics = keep(
    tasks.GetTaskMetrics(
        connector_pb2.GetTaskMetricsRequest(resource_meta=created.resource_meta, queries=["rows_scanned"], task_category=category),
        timeout=10,
    )
)
seen["metrics"] = [[r.metric, r.data["resultType"]] for r in metrics.results]

shout_category = connector_pb2.TaskCategory(name="shout", version=0)
shout = keep(
    tasks.CreateTask(
        connector_pb2.CreateTaskRequest(
            template=template("shout", {"text": STR}, {"text": STR, "had_secret": BOOL}),
            inputs=common_pb2.Inputs(literals=[common_pb2.NamedLiteral(name="text", value=string("hey"))]),
            output_prefix="s3://bucket/run/1",
            connection=connection,
        ),
        timeout=10,
    )
)
shouted = keep(
    tasks.GetTask(
        connector_pb2.GetTaskRequest(resource_meta=shout.resource_meta, task_category=shout_category, connection=connection),
        timeout=10,
    )
)
seen["sync"] = {
    "phase": shouted.resource.phase,
    "outputs": [[o.name, plain(o.value)] for o in shouted.resource.outputs.literals],
}

seen["unknown_task_type"] = failure(
    lambda: tasks.CreateTask(
        connector_pb2.CreateTaskRequest(template=tasks_pb2.TaskTemplate(type="bigquery"), connection=connection), timeout=10
    )
)
seen["bad_meta"] = failure(
    lambda: tasks.GetTask(
        connector_pb2.GetTaskRequest(resource_meta=b"not json", task_category=category, connection=connection), timeout=10
    )
)
seen["bad_sync_meta"] = failure(
    lambda: tasks.GetTask(
        connector_pb2.GetTaskRequest(resource_meta=b'{"job_id": "x"}', task_category=shout_category), timeout=10
    )
)
seen["secret_in_answers"] = any(secret.encode() in a for a in answers)
print(json.dumps(seen))
