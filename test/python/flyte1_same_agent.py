"""The Flyte 1 side of the two-protocol peer test: the same agent module, called through
flyteidl.service's stubs (compiled by protoc and grpc_python_plugin from @flyteorg/flyteidl) as
FlytePropeller calls it. Prints what it saw as one JSON object.

usage: flyte1_same_agent.py ADDRESS GENERATED_DIR
"""

import json
import sys

sys.path.insert(0, sys.argv[2])

import grpc  # noqa: E402
from flyteidl.admin import agent_pb2  # noqa: E402
from flyteidl.core import interface_pb2, literals_pb2, tasks_pb2, types_pb2  # noqa: E402
from flyteidl.service import agent_pb2_grpc  # noqa: E402

channel = grpc.insecure_channel(sys.argv[1])
tasks = agent_pb2_grpc.AsyncAgentServiceStub(channel)
metadata = agent_pb2_grpc.AgentMetadataServiceStub(channel)


def variables(spec):
    return interface_pb2.VariableMap(
        variables={name: interface_pb2.Variable(type=types_pb2.LiteralType(simple=kind)) for name, kind in spec.items()}
    )


def literal(**primitive):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(**primitive)))


INT, STR = types_pb2.INTEGER, types_pb2.STRING
template = tasks_pb2.TaskTemplate(
    type="warehouse",
    interface=interface_pb2.TypedInterface(
        inputs=variables({"n": INT, "label": STR}), outputs=variables({"rows": INT, "table": STR})
    ),
)
listed = metadata.ListAgents(agent_pb2.ListAgentsRequest(), timeout=10)
created = tasks.CreateTask(
    agent_pb2.CreateTaskRequest(
        template=template,
        inputs=literals_pb2.LiteralMap(literals={"n": literal(integer=3), "label": literal(string_value="v1")}),
        output_prefix="s3://bucket/run/v1",
    ),
    timeout=10,
)
got = tasks.GetTask(
    agent_pb2.GetTaskRequest(
        resource_meta=created.resource_meta, task_category=agent_pb2.TaskCategory(name="warehouse", version=0)
    ),
    timeout=10,
)
outputs = {k: getattr(v.scalar.primitive, v.scalar.primitive.WhichOneof("value")) for k, v in got.resource.outputs.literals.items()}
logs = []
for m in tasks.GetTaskLogs(
    agent_pb2.GetTaskLogsRequest(resource_meta=created.resource_meta, lines=10, task_category=agent_pb2.TaskCategory(name="warehouse")),
    timeout=10,
):
    if m.HasField("body"):
        logs.extend(m.body.results)
print(
    json.dumps(
        {
            "agents": sorted([a.name, a.is_sync] for a in listed.agents),
            "resource_meta": created.resource_meta.decode(),
            "phase": got.resource.phase,
            "outputs": outputs,
            "custom_info": dict(got.resource.custom_info),
            "logs": logs,
        }
    )
)
