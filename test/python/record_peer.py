"""Sends one CreateTask as FlytePropeller's peer would (Python protobuf encodes fields in number order,
as Go does) and writes the request's bytes, for comparing with what `serve --record` wrote.

usage: record_peer.py ADDRESS GENERATED_DIR OUT_FILE
"""

import sys

sys.path.insert(0, sys.argv[2])

import grpc  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402
from flyteidl.admin import agent_pb2  # noqa: E402
from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2  # noqa: E402

channel = grpc.insecure_channel(sys.argv[1])
create = channel.unary_unary(
    "/flyteidl.service.AsyncAgentService/CreateTask",
    request_serializer=lambda m: m.SerializeToString(deterministic=True),
    response_deserializer=agent_pb2.CreateTaskResponse.FromString,
)


def variables(spec):
    return interface_pb2.VariableMap(
        variables={name: interface_pb2.Variable(type=types_pb2.LiteralType(simple=kind)) for name, kind in spec.items()}
    )


custom = struct_pb2.Struct()
custom.update({"query": "select {{ n }}", "limit": 10, "nested": {"region": "eu", "flags": [True, "x"]}})
template = tasks_pb2.TaskTemplate(
    id=identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK, project="flytesnacks", domain="development", name="wf.job", version="v7"
    ),
    type="job",
    metadata=tasks_pb2.TaskMetadata(runtime=tasks_pb2.RuntimeMetadata(type=tasks_pb2.RuntimeMetadata.FLYTE_SDK, version="1.16.5", flavor="python"), retries=literals_pb2.RetryStrategy(retries=2)),
    interface=interface_pb2.TypedInterface(
        inputs=variables({"n": types_pb2.INTEGER}), outputs=variables({"id": types_pb2.STRING, "n": types_pb2.INTEGER})
    ),
    custom=custom,
    config={"region": "eu-west-1"},
)
request = agent_pb2.CreateTaskRequest(
    inputs=literals_pb2.LiteralMap(
        literals={"n": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=7)))}
    ),
    template=template,
    output_prefix="s3://bucket/metadata/n0/data/0",
    task_execution_metadata=agent_pb2.TaskExecutionMetadata(
        namespace="flytesnacks-development", k8s_service_account="default", max_attempts=3
    ),
)
create(request, timeout=10)
with open(sys.argv[3], "wb") as f:
    f.write(request.SerializeToString(deterministic=True))
