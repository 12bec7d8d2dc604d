"""The Python side of the data interop tests: flytekit 1.16's encodings (flytekit_types.py) over
Debian's grpcio and protobuf classes compiled by protoc from flyteidl's protos.

usage:
  interop.py echo ADDRESS GENERATED_DIR
      Sends every case to the sync agents "echo_plain" and "echo_typed" of the server at ADDRESS and
      prints, per agent and case, whether the outputs decode (as flytekit would) to what was sent.
  interop.py agent GENERATED_DIR
      Serves a flytekit-style sync agent "py_echo": it decodes each input as flytekit would, checks it
      against the case of that name, and answers it back encoded as flytekit writes it.
      Prints "listening PORT", serves until killed.
  interop.py sensor ADDRESS GENERATED_DIR WORK_DIR
      Acts as flytekit's sensor engine (module imported by name, SensorMetadata decoded strictly) and
      runs a FileSensor task both ways with the server at ADDRESS; prints what happened.
"""

import dataclasses
import importlib
import json
import os
import sys
from concurrent import futures

mode = sys.argv[1]
sys.path.insert(0, sys.argv[3] if mode in ("echo", "sensor") else sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402
from flyteidl.admin import agent_pb2  # noqa: E402
from flyteidl.core import execution_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2  # noqa: E402

import flytekit_types as ft  # noqa: E402

Phase = execution_pb2.TaskExecution


def variables(cases):
    return interface_pb2.VariableMap(
        variables={name: interface_pb2.Variable(type=ft.literal_type(kind)) for name, (kind, _) in cases.items()}
    )


def template(task_type, cases, custom=None):
    t = tasks_pb2.TaskTemplate(
        type=task_type,
        interface=interface_pb2.TypedInterface(inputs=variables(cases), outputs=variables(cases)),
    )
    if custom is not None:
        t.custom.update(custom)
    return t


def echo(address):
    channel = grpc.insecure_channel(address)
    call = channel.stream_stream(
        "/flyteidl.service.SyncAgentService/ExecuteTaskSync",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=agent_pb2.ExecuteTaskSyncResponse.FromString,
    )
    result = {}
    for task_type, cases in (("echo_plain", {**ft.CASES, **ft.UNTYPED_ONLY}), ("echo_typed", ft.CASES)):
        inputs = literals_pb2.LiteralMap(literals={n: ft.to_literal(k, v) for n, (k, v) in cases.items()})
        header = agent_pb2.CreateRequestHeader(template=template(task_type, cases), output_prefix="/tmp/interop")
        answers = list(
            call(
                iter([agent_pb2.ExecuteTaskSyncRequest(header=header), agent_pb2.ExecuteTaskSyncRequest(inputs=inputs)]),
                timeout=10,
            )
        )
        resource = answers[0].header.resource
        seen = {"phase": resource.phase, "message": resource.message, "cases": {}}
        for name, (kind, sent) in cases.items():
            lit = resource.outputs.literals.get(name)
            if lit is None:
                seen["cases"][name] = {"equal": False, "strict": False, "got": "missing"}
                continue
            try:
                got = ft.to_python(kind, lit)
                seen["cases"][name] = {"equal": got == sent, "strict": ft.strictly_equal(got, sent), "got": repr(got)}
            except Exception as err:  # noqa: BLE001 - reported to the test
                seen["cases"][name] = {"equal": False, "strict": False, "got": f"error: {err!r}"}
        result[task_type] = seen
    print(json.dumps(result))


def agent():
    def execute_task_sync(requests, context):
        header, inputs = None, None
        for message in requests:
            if message.HasField("header"):
                header = message.header
            elif message.HasField("inputs"):
                inputs = message.inputs
        if header is None or header.template.type != "py_echo":
            context.abort(grpc.StatusCode.NOT_FOUND, "Cannot find agent for task category")
        outputs, problems = {}, []
        for name, lit in inputs.literals.items():
            kind, expected = ft.CASES[name]
            try:
                value = ft.to_python(kind, lit)
            except Exception as err:  # noqa: BLE001 - reported to the caller
                problems.append(f"{name}: {err!r}")
                continue
            if not ft.strictly_equal(value, expected):
                problems.append(f"{name}: got {value!r}, expected {expected!r}")
            outputs[name] = ft.to_literal(kind, value)
        if problems:
            resource = agent_pb2.Resource(phase=Phase.FAILED, message="; ".join(problems))
        else:
            resource = agent_pb2.Resource(phase=Phase.SUCCEEDED, outputs=literals_pb2.LiteralMap(literals=outputs))
        yield agent_pb2.ExecuteTaskSyncResponse(header=agent_pb2.ExecuteTaskSyncResponseHeader(resource=resource))

    agents = [
        agent_pb2.Agent(
            name="PyEcho", supported_task_categories=[agent_pb2.TaskCategory(name="py_echo", version=0)], is_sync=True
        )
    ]

    def list_agents(request, context):
        return agent_pb2.ListAgentsResponse(agents=agents)

    def get_agent(request, context):
        if request.name != "PyEcho":
            context.abort(grpc.StatusCode.NOT_FOUND, f"Cannot find agent named {request.name}")
        return agent_pb2.GetAgentResponse(agent=agents[0])

    def unary(fn, req, res):
        return grpc.unary_unary_rpc_method_handler(fn, request_deserializer=req.FromString, response_serializer=res.SerializeToString)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "flyteidl.service.SyncAgentService",
                {
                    "ExecuteTaskSync": grpc.stream_stream_rpc_method_handler(
                        execute_task_sync,
                        request_deserializer=agent_pb2.ExecuteTaskSyncRequest.FromString,
                        response_serializer=agent_pb2.ExecuteTaskSyncResponse.SerializeToString,
                    )
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


# --- flytekit's sensor engine, as flytekit/sensor/sensor_engine.py and base_sensor.py (v1.16.5) ---


@dataclasses.dataclass
class SensorMetadata:
    sensor_module: str
    sensor_name: str
    sensor_config: dict = None
    inputs: dict = None


def dataclass_from_dict(cls, src):
    field_types = {f.name: f.type for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in src.items():
        field_types[name]  # as flytekit core/type_engine.py: every key is looked up, an unknown one is a KeyError
        kwargs[name] = value
    return cls(**kwargs)


def engine_create(custom, native_inputs):
    meta = SensorMetadata(**custom)
    meta.inputs = native_inputs
    return json.dumps(dataclasses.asdict(meta)).encode("utf-8")


def engine_get(resource_meta):
    meta = dataclass_from_dict(SensorMetadata, json.loads(resource_meta.decode("utf-8")))
    sensor_def = getattr(importlib.import_module(name=meta.sensor_module), meta.sensor_name)
    return Phase.SUCCEEDED if sensor_def("sensor", config=meta.sensor_config).poke(**meta.inputs) else Phase.RUNNING


def install_flytekit_file_sensor(work_dir):
    """A module at flytekit.sensor.file_sensor with flytekit's FileSensor contract (poke(path))."""
    pkg = os.path.join(work_dir, "pysite", "flytekit", "sensor")
    os.makedirs(pkg, exist_ok=True)
    for d in (os.path.dirname(pkg), pkg):
        open(os.path.join(d, "__init__.py"), "w").close()
    with open(os.path.join(pkg, "file_sensor.py"), "w") as f:
        f.write(
            "import os\n"
            "class FileSensor:\n"
            "    def __init__(self, name, timeout=None, **kwargs):\n"
            "        self.name = name\n"
            "    def poke(self, path):\n"
            "        return os.path.exists(path)\n"
        )
    sys.path.insert(0, os.path.join(work_dir, "pysite"))


def sensor(address, work_dir):
    install_flytekit_file_sensor(work_dir)
    channel = grpc.insecure_channel(address)

    def unary(method, request, response_class):
        return channel.unary_unary(
            f"/flyteidl.service.AsyncAgentService/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString,
        )(request, timeout=10)

    cases = {"path": ("str", "")}
    custom = {"sensor_module": "flytekit.sensor.file_sensor", "sensor_name": "FileSensor", "sensor_config": None}
    result = {}

    # 1. Created by the TypeScript replica, completed by flytekit's engine.
    path_a = os.path.join(work_dir, "from-typescript.txt")
    created = unary(
        "CreateTask",
        agent_pb2.CreateTaskRequest(
            template=template("sensor", cases, custom),
            inputs=literals_pb2.LiteralMap(literals={"path": ft.to_literal("str", path_a)}),
            output_prefix=os.path.join(work_dir, "out"),
        ),
        agent_pb2.CreateTaskResponse,
    )
    result["ts_meta"] = created.resource_meta.decode("utf-8")
    phases = [engine_get(created.resource_meta)]
    open(path_a, "w").close()
    phases.append(engine_get(created.resource_meta))
    result["python_completes_ts"] = phases

    # 2. Created by flytekit's engine, completed by the TypeScript replica.
    path_b = os.path.join(work_dir, "from-python.txt")
    meta_b = engine_create(custom, {"path": path_b})
    result["python_meta"] = meta_b.decode("utf-8")
    phases = []
    for make in (False, True):
        if make:
            open(path_b, "w").close()
        got = unary(
            "GetTask",
            agent_pb2.GetTaskRequest(task_category=agent_pb2.TaskCategory(name="sensor", version=0), resource_meta=meta_b),
            agent_pb2.GetTaskResponse,
        )
        phases.append(got.resource.phase)
    result["ts_completes_python"] = phases

    # flytekit's decoding really is strict: the metadata our engine used to write is refused.
    try:
        engine_get(json.dumps({**json.loads(meta_b), "created_at": 1.5, "timeout_seconds": None}).encode())
        result["strict"] = "accepted"
    except (KeyError, TypeError) as err:
        result["strict"] = f"{type(err).__name__}: {err}"
    print(json.dumps(result))


if mode == "echo":
    echo(sys.argv[2])
elif mode == "agent":
    agent()
elif mode == "sensor":
    sensor(sys.argv[2], sys.argv[4])
else:
    raise SystemExit(__doc__)
