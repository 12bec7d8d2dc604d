"""An agent server in another language: Python grpcio with protobuf classes compiled by protoc from
flyteidl's protos, shaped like a flytekit connector server (an async and a sync agent, the job named
in resource_meta, NOT_FOUND for unknown task categories). A job answers RUNNING to its first
RUNNING_POLLS GetTask calls (counted here, as a job service would track it), so no answer depends on
elapsed time. `flyte-agent conformance` is checked against it. No grpc.health.v1 service: Debian's
grpcio does not ship it.

usage: agent_server.py GENERATED_DIR   (prints "listening PORT", serves until killed)
"""

import json
import sys
import threading
import uuid
from concurrent import futures

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from flyteidl.admin import agent_pb2  # noqa: E402
from flyteidl.core import execution_pb2, literals_pb2  # noqa: E402

Phase = execution_pb2.TaskExecution
RUNNING_POLLS = 2
polls = {}
polls_lock = threading.Lock()

AGENTS = [
    agent_pb2.Agent(
        name="PyAsync",
        supported_task_categories=[agent_pb2.TaskCategory(name="py_async", version=0)],
        is_sync=False,
    ),
    agent_pb2.Agent(
        name="PySync",
        supported_task_categories=[agent_pb2.TaskCategory(name="py_sync", version=0)],
        is_sync=True,
    ),
]


def literal(**primitive):
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(**primitive)))


def require(name, served, context):
    if name != served:
        context.abort(grpc.StatusCode.NOT_FOUND, f"Cannot find agent for task category: {name}_v0")


def create_task(request, context):
    require(request.template.type, "py_async", context)
    n = request.inputs.literals["n"].scalar.primitive.integer
    meta = json.dumps({"n": n, "job": uuid.uuid4().hex})
    return agent_pb2.CreateTaskResponse(resource_meta=meta.encode())


def get_task(request, context):
    require(request.task_category.name, "py_async", context)
    meta = json.loads(request.resource_meta)
    with polls_lock:
        polls[meta["job"]] = polls.get(meta["job"], 0) + 1
        seen = polls[meta["job"]]
    if seen <= RUNNING_POLLS:
        return agent_pb2.GetTaskResponse(resource=agent_pb2.Resource(phase=Phase.RUNNING))
    outputs = literals_pb2.LiteralMap(literals={"doubled": literal(integer=meta["n"] * 2)})
    return agent_pb2.GetTaskResponse(resource=agent_pb2.Resource(phase=Phase.SUCCEEDED, outputs=outputs))


def delete_task(request, context):
    require(request.task_category.name, "py_async", context)
    return agent_pb2.DeleteTaskResponse()


def execute_task_sync(requests, context):
    header, inputs = None, None
    for message in requests:
        if message.HasField("header"):
            header = message.header
        elif message.HasField("inputs"):
            inputs = message.inputs
    require(header.template.type if header else "", "py_sync", context)
    text = inputs.literals["text"].scalar.primitive.string_value
    outputs = literals_pb2.LiteralMap(literals={"upper": literal(string_value=text.upper())})
    resource = agent_pb2.Resource(phase=Phase.SUCCEEDED, outputs=outputs)
    yield agent_pb2.ExecuteTaskSyncResponse(header=agent_pb2.ExecuteTaskSyncResponseHeader(resource=resource))


def list_agents(request, context):
    return agent_pb2.ListAgentsResponse(agents=AGENTS)


def get_agent(request, context):
    for agent in AGENTS:
        if agent.name == request.name:
            return agent_pb2.GetAgentResponse(agent=agent)
    context.abort(grpc.StatusCode.NOT_FOUND, f"Cannot find agent named {request.name}")


def unary(fn, request_class, response_class):
    return grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=request_class.FromString, response_serializer=response_class.SerializeToString
    )


server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
server.add_generic_rpc_handlers(
    (
        grpc.method_handlers_generic_handler(
            "flyteidl.service.AsyncAgentService",
            {
                "CreateTask": unary(create_task, agent_pb2.CreateTaskRequest, agent_pb2.CreateTaskResponse),
                "GetTask": unary(get_task, agent_pb2.GetTaskRequest, agent_pb2.GetTaskResponse),
                "DeleteTask": unary(delete_task, agent_pb2.DeleteTaskRequest, agent_pb2.DeleteTaskResponse),
            },
        ),
        grpc.method_handlers_generic_handler(
            "flyteidl.service.SyncAgentService",
            {
                "ExecuteTaskSync": grpc.stream_stream_rpc_method_handler(
                    execute_task_sync,
                    request_deserializer=agent_pb2.ExecuteTaskSyncRequest.FromString,
                    response_serializer=agent_pb2.ExecuteTaskSyncResponse.SerializeToString,
                ),
            },
        ),
        grpc.method_handlers_generic_handler(
            "flyteidl.service.AgentMetadataService",
            {
                "ListAgents": unary(list_agents, agent_pb2.ListAgentsRequest, agent_pb2.ListAgentsResponse),
                "GetAgent": unary(get_agent, agent_pb2.GetAgentRequest, agent_pb2.GetAgentResponse),
            },
        ),
    )
)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"listening {port}", flush=True)
server.wait_for_termination()
