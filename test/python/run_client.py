"""Runs a task template through a generated package's _client.py (loaded by path: the package's
__init__ imports flytekit, which is not installable here) against an agent server, with grpc stubs
protoc generated from flyteidl's protos. Prints {"outputs": hex} or {"error": message} as JSON.

usage: run_client.py GENERATED_DIR CLIENT_PY TEMPLATE_PB INPUTS_PB OUTPUT_PREFIX [interrupt]
(endpoint in $FLYTE_AGENT_ENDPOINT; "interrupt": Ctrl-C at the first wait between GetTask calls)
"""

import importlib.util
import json
import sys

sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("generated_client", sys.argv[2])
client_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(client_module)

from flyteidl.core import literals_pb2, tasks_pb2  # noqa: E402

template = tasks_pb2.TaskTemplate.FromString(open(sys.argv[3], "rb").read())
inputs = literals_pb2.LiteralMap.FromString(open(sys.argv[4], "rb").read())
def interrupt(_seconds):
    raise KeyboardInterrupt()


try:
    sleep = interrupt if sys.argv[6:] == ["interrupt"] else (lambda _s: None)
    client = client_module.FlyteAgentClient.from_env(poll_interval=0.01, sleep=sleep)
    try:
        outputs = client.run(template, inputs, sys.argv[5])
    finally:
        client.close()
    print(json.dumps({"outputs": outputs.SerializeToString().hex() if outputs is not None else None}))
except client_module.FlyteAgentError as e:
    print(json.dumps({"error": str(e)}))
except KeyboardInterrupt:
    print(json.dumps({"error": "interrupted"}))
