"""A gRPC reflection client that knows no flyteidl protos, as grpcurl works.

It lists the services, asks file_containing_symbol for each, then file_by_filename for every
dependency, adds the files to an empty descriptor pool in dependency order (the pool refuses a file
whose dependencies it lacks), describes every method, and calls each one with a message built from
the pool. Prints one JSON document: the files, the methods and what each call answered.

usage: reflection_client.py <generated reflection_pb2 dir> <host:port>
"""
import json
import sys

import importlib.util
import os

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

# The reflection messages, compiled by protoc into argv[1]; loaded by path, since `grpc.reflection`
# would resolve inside the installed grpc package.
_spec = importlib.util.spec_from_file_location(
    "reflection_pb2", os.path.join(sys.argv[1], "grpc", "reflection", "v1", "reflection_pb2.py")
)
r = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(r)

channel = grpc.insecure_channel(sys.argv[2])
info = channel.stream_stream(
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    request_serializer=r.ServerReflectionRequest.SerializeToString,
    response_deserializer=r.ServerReflectionResponse.FromString,
)


def ask(**request):
    (response,) = list(info(iter([r.ServerReflectionRequest(**request)]), timeout=10))
    if response.HasField("error_response"):
        raise SystemExit(f"reflection error for {request}: {response.error_response.error_message}")
    return response


def first_file(response):
    return descriptor_pb2.FileDescriptorProto.FromString(
        response.file_descriptor_response.file_descriptor_proto[0]
    )


pool = descriptor_pool.DescriptorPool()
added = []


def message_class(descriptor):
    # protobuf >= 4.22 has GetMessageClass; Debian's 4.21 has the factory's GetPrototype.
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def add(fdp):
    for dep in fdp.dependency:
        if dep not in added:
            add(first_file(ask(file_by_filename=dep)))
    pool.Add(fdp)
    added.append(fdp.name)


services = [s.name for s in ask(list_services="").list_services_response.service]
methods = []
for name in services:
    fdp = first_file(ask(file_containing_symbol=name))
    if fdp.name not in added:
        add(fdp)
    service = pool.FindServiceByName(name)
    for m in service.methods:
        request_class = message_class(m.input_type)
        response_class = message_class(m.output_type)
        path = f"/{name}/{m.name}"
        streams = (m.client_streaming, m.server_streaming)
        if streams == (False, False):
            call = channel.unary_unary(path, request_class.SerializeToString, response_class.FromString)
            invoke = lambda call=call, cls=request_class: [call(cls(), timeout=5)]  # noqa: E731
        elif streams == (False, True):
            call = channel.unary_stream(path, request_class.SerializeToString, response_class.FromString)
            invoke = lambda call=call, cls=request_class: list(call(cls(), timeout=5))  # noqa: E731
        else:
            call = channel.stream_stream(path, request_class.SerializeToString, response_class.FromString)
            invoke = lambda call=call, cls=request_class: list(call(iter([cls()]), timeout=5))  # noqa: E731
        try:
            answers = [json_format.MessageToDict(a) for a in invoke()]
            outcome = {"code": "OK", "answers": answers}
        except grpc.RpcError as err:
            outcome = {"code": err.code().name, "details": err.details()}
        methods.append(
            {
                "method": f"{name}.{m.name}",
                "input": m.input_type.full_name,
                "output": m.output_type.full_name,
                **outcome,
            }
        )

print(json.dumps({"services": services, "files": added, "methods": methods}))
