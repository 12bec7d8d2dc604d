"""An independent gRPC peer: Python grpcio with protobuf classes compiled by protoc from flyteidl's
protos. It drives a running agent server and prints what it saw as one JSON object.

usage: peer.py ADDRESS GENERATED_DIR
"""

import json
import sys

sys.path.insert(0, sys.argv[2])

import grpc  # noqa: E402
from flyteidl.admin import agent_pb2  # noqa: E402
from flyteidl.core import interface_pb2, literals_pb2, tasks_pb2, types_pb2  # noqa: E402

address = sys.argv[1]
channel = grpc.insecure_channel(address)


def unary(service, method, request, response_class):
    call = channel.unary_unary(
        f"/flyteidl.service.{service}/{method}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response_class.FromString,
    )
    return call(request, timeout=10)


def integer(n):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=n)))


def string(s):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=s)))


def template(task_type, inputs, outputs):
    def variables(spec):
        return interface_pb2.VariableMap(
            variables={name: interface_pb2.Variable(type=types_pb2.LiteralType(simple=kind)) for name, kind in spec.items()}
        )

    return tasks_pb2.TaskTemplate(
        type=task_type,
        interface=interface_pb2.TypedInterface(inputs=variables(inputs), outputs=variables(outputs)),
    )


def scalar(literal):
    p = literal.scalar.primitive
    return p.integer if p.WhichOneof("value") == "integer" else p.string_value


result = {}

listed = unary("AgentMetadataService", "ListAgents", agent_pb2.ListAgentsRequest(), agent_pb2.ListAgentsResponse)
result["agents"] = [
    {"name": a.name, "is_sync": a.is_sync, "categories": [f"{c.name}_v{c.version}" for c in a.supported_task_categories]}
    for a in listed.agents
]

job = template("job", {"n": types_pb2.INTEGER}, {"id": types_pb2.STRING, "n": types_pb2.INTEGER})
created = unary(
    "AsyncAgentService",
    "CreateTask",
    agent_pb2.CreateTaskRequest(
        template=job, inputs=literals_pb2.LiteralMap(literals={"n": integer(7)}), output_prefix="/tmp/peer"
    ),
    agent_pb2.CreateTaskResponse,
)
result["resource_meta"] = created.resource_meta.decode()

got = unary(
    "AsyncAgentService",
    "GetTask",
    agent_pb2.GetTaskRequest(
        task_category=agent_pb2.TaskCategory(name="job", version=0), resource_meta=created.resource_meta
    ),
    agent_pb2.GetTaskResponse,
)
result["get"] = {"phase": got.resource.phase, "outputs": {k: scalar(v) for k, v in got.resource.outputs.literals.items()}}

echo = template("echo", {"text": types_pb2.STRING}, {"text": types_pb2.STRING})
stream = channel.stream_stream(
    "/flyteidl.service.SyncAgentService/ExecuteTaskSync",
    request_serializer=lambda m: m.SerializeToString(),
    response_deserializer=agent_pb2.ExecuteTaskSyncResponse.FromString,
)
answers = list(
    stream(
        iter(
            [
                agent_pb2.ExecuteTaskSyncRequest(header=agent_pb2.CreateRequestHeader(template=echo, output_prefix="/tmp/peer")),
                agent_pb2.ExecuteTaskSyncRequest(inputs=literals_pb2.LiteralMap(literals={"text": string("py")})),
            ]
        ),
        timeout=10,
    )
)
result["sync"] = [
    {"phase": a.header.resource.phase, "outputs": {k: scalar(v) for k, v in a.header.resource.outputs.literals.items()}}
    for a in answers
]

try:
    unary(
        "AsyncAgentService",
        "GetTask",
        agent_pb2.GetTaskRequest(task_type="bigquery", resource_meta=b"{}"),
        agent_pb2.GetTaskResponse,
    )
    result["not_found"] = None
except grpc.RpcError as err:
    result["not_found"] = {"code": err.code().name, "details": err.details()}

health = channel.unary_unary(
    "/grpc.health.v1.Health/Check", request_serializer=lambda b: b, response_deserializer=lambda b: b
)
result["health"] = list(health(b"", timeout=10))

print(json.dumps(result))
