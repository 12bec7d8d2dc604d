"""The Python side of the Flyte 2 protocol-code test: messages built with protoc's Python classes of
flyteidl2.connector, as Flyte 2's executor and a flyte-sdk connector build them.

usage: flyte2_messages.py GENERATED_DIR write     -> prints {"create": hex, "get": hex}
       flyte2_messages.py GENERATED_DIR check     <- reads {"create": hex, "get": hex} on stdin; prints
                                                     {"create": bool, "get": bool}: equal to what `write` builds
"""

import json
import sys

sys.path.insert(0, sys.argv[1])

from flyteidl2.connector import connector_pb2  # noqa: E402
from flyteidl2.core import execution_pb2, identifier_pb2, literals_pb2, security_pb2, tasks_pb2  # noqa: E402
from flyteidl2.task import common_pb2  # noqa: E402


def integer(n):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=n)))


def string(s):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=s)))


def create_request():
    template = tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(project="flytesnacks", domain="development", name="wf.query", version="v10"),
        type="warehouse_query",
    )
    template.custom.update({"warehouse": "duckdb", "options": {"threads": 2}})
    return connector_pb2.CreateTaskRequest(
        inputs=common_pb2.Inputs(
            literals=[
                common_pb2.NamedLiteral(name="limit", value=integer(2**62)),
                common_pb2.NamedLiteral(name="query", value=string("SELECT 1 -- ünïcode")),
            ]
        ),
        template=template,
        output_prefix="s3://bucket/run/a0",
        task_execution_metadata=connector_pb2.TaskExecutionMetadata(namespace="flytesnacks-development", labels={"node-id": "a0"}),
        connection=security_pb2.Connection(task_type="warehouse_query", secrets={"token": "s3cr3t"}, configs={"region": "eu"}),
    )


def get_response():
    return connector_pb2.GetTaskResponse(
        resource=connector_pb2.Resource(
            phase=execution_pb2.TaskExecution.SUCCEEDED,
            message="done",
            outputs=common_pb2.Outputs(literals=[common_pb2.NamedLiteral(name="rows", value=integer(-7))]),
            log_links=[execution_pb2.TaskLog(uri="https://logs.example/1", name="Job")],
        )
    )


if sys.argv[2] == "write":
    print(json.dumps({"create": create_request().SerializeToString().hex(), "get": get_response().SerializeToString().hex()}))
else:
    got = json.load(sys.stdin)
    print(
        json.dumps(
            {
                "create": connector_pb2.CreateTaskRequest.FromString(bytes.fromhex(got["create"])) == create_request(),
                "get": connector_pb2.GetTaskResponse.FromString(bytes.fromhex(got["get"])) == get_response(),
            }
        )
    )
