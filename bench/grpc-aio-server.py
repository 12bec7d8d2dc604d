# A reference point for bench/run.mjs: a Python grpc.aio server (Debian's python3-grpcio) answering
# each method with fixed bytes, the bytes the agent server answered (no decoding, no agent call),
# as bench/bare-server.mjs does for grpc-js.
# usage: python3 bench/grpc-aio-server.py '{"GetTask": "<base64>", ...}'  -> prints the port.
import asyncio
import base64
import json
import signal
import sys

import grpc
import grpc.aio

ANSWERS = {name: base64.b64decode(value) for name, value in json.loads(sys.argv[1]).items()}


def unary(name):
    answer = ANSWERS[name]

    async def handler(_request, _context):
        return answer

    return grpc.unary_unary_rpc_method_handler(handler)


def execute_task_sync():
    answer = ANSWERS["ExecuteTaskSync"]

    async def handler(requests, _context):
        async for _ in requests:
            pass
        yield answer

    return grpc.stream_stream_rpc_method_handler(handler)


async def main():
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "flyteidl.service.AsyncAgentService",
                {"GetTask": unary("GetTask"), "CreateTask": unary("CreateTask")},
            ),
            grpc.method_handlers_generic_handler(
                "flyteidl.service.SyncAgentService", {"ExecuteTaskSync": execute_task_sync()}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    await stopped.wait()
    await server.stop(0)


asyncio.run(main())
