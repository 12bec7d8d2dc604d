// The Python side of the wire-compatibility tests: a Python with grpcio and protobuf, and flyteidl's
// protos compiled for it by protoc (the independent implementation we check our bytes against).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A Python that has grpcio and protobuf (Debian's python3-grpcio installs them for /usr/bin/python3). */
function findPython(): string | undefined {
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      execFileSync(python, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
      return python;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function has(command: string): boolean {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The Python to run, when it and protoc are there. */
export const python = findPython();

/** Why the Python tests cannot run here, or undefined when they can. */
export const pythonSkipReason = !python
  ? "python3-grpcio and python3-protobuf are not installed (apt-get install python3-grpcio python3-protobuf)"
  : !has("protoc")
    ? "protoc is not installed (apt-get install protobuf-compiler)"
    : undefined;

function hasMsgpack(): boolean {
  try {
    execFileSync(python!, ["-c", "import msgpack"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why the data interop tests (which also need msgpack) cannot run here, or undefined when they can. */
export const interopSkipReason =
  pythonSkipReason ??
  (hasMsgpack() ? undefined : "python3-msgpack is not installed (apt-get install python3-msgpack)");

/** Compiles the flyteidl protos the Python scripts import (and `extra` ones) into a new temp directory. */
export function compilePythonProtos(extra: readonly string[] = []): string {
  const generated = mkdtempSync(path.join(tmpdir(), "flyte-agent-pyproto-"));
  const flyteidl = path.join(root, "node_modules/@flyteorg/flyteidl/protos");
  const googleApis = path.join(root, "node_modules/google-proto-files");
  const protos = [
    "flyteidl/admin/agent.proto",
    "flyteidl/core/literals.proto",
    "flyteidl/core/tasks.proto",
    "flyteidl/core/types.proto",
    "flyteidl/core/interface.proto",
    "flyteidl/core/identifier.proto",
    "flyteidl/core/execution.proto",
    "flyteidl/core/workflow.proto",
    "flyteidl/core/condition.proto",
    "flyteidl/core/metrics.proto",
    "flyteidl/core/security.proto",
    "flyteidl/core/artifact_id.proto",
    ...extra,
  ];
  // Piped, so protoc's warnings about unused imports in flyteidl's protos stay out of the test output.
  execFileSync("protoc", [`-I${flyteidl}`, `-I${googleApis}`, `--python_out=${generated}`, ...protos], {
    stdio: "pipe",
  });
  return generated;
}

/** Why the gRPC stubs for Python cannot be generated here (protobuf-compiler-grpc's plugin), if so. */
export const grpcStubsSkipReason =
  pythonSkipReason ??
  (existsSync("/usr/bin/grpc_python_plugin")
    ? undefined
    : "grpc_python_plugin is not installed (apt-get install protobuf-compiler-grpc)");

/**
 * Adds to `generated` (from {@link compilePythonProtos}) the grpc stubs of flyteidl's agent services
 * (`flyteidl/service/agent_pb2_grpc.py`, as the flyteidl Python package ships them) and the
 * google/api protos they import.
 */
export function compilePythonServiceStubs(generated: string): void {
  const flyteidl = path.join(root, "node_modules/@flyteorg/flyteidl/protos");
  const googleApis = path.join(root, "node_modules/google-proto-files");
  execFileSync("protoc", [
    `-I${flyteidl}`,
    `-I${googleApis}`,
    `--python_out=${generated}`,
    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
    `--grpc_python_out=${generated}`,
    "flyteidl/service/agent.proto",
    "google/api/annotations.proto",
    "google/api/http.proto",
  ]);
}

/**
 * Compiles Flyte 2's connector protos (flyteidl2.connector and all it imports) for Python into a new temp
 * directory. @flyteorg/flyteidl2 ships no .proto files, so protoc reads the FileDescriptorSet that the
 * generator extracts from the package's embedded descriptors (scripts/flyteidl2-descriptors.mts).
 */
export function compileFlyte2PythonProtos(): string {
  const generated = mkdtempSync(path.join(tmpdir(), "flyte-agent-pyproto2-"));
  const set = path.join(generated, "flyteidl2.binpb");
  execFileSync(path.join(root, "node_modules/.bin/tsx"), [
    path.join(root, "scripts/flyteidl2-descriptors.mts"),
    set,
  ]);
  const files = execFileSync(python!, [
    "-c",
    "import sys; from google.protobuf import descriptor_pb2 as d; s = d.FileDescriptorSet(); " +
      "s.ParseFromString(open(sys.argv[1], 'rb').read()); print('\\n'.join(f.name for f in s.file))",
    set,
  ])
    .toString()
    .trim()
    .split("\n")
    // The protobuf runtime ships the well-known types.
    .filter((f) => !f.startsWith("google/protobuf/"));
  execFileSync("protoc", [`--descriptor_set_in=${set}`, `--python_out=${generated}`, ...files]);
  return generated;
}

/**
 * Adds to `generated` (from {@link compileFlyte2PythonProtos}) the grpc stubs of Flyte 2's connector
 * services (`flyteidl2/connector/service_pb2_grpc.py`, as flyte-sdk imports them), generated by
 * Debian's grpc_python_plugin from the same descriptor set.
 */
export function compileFlyte2PythonServiceStubs(generated: string): void {
  execFileSync("protoc", [
    `--descriptor_set_in=${path.join(generated, "flyteidl2.binpb")}`,
    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
    `--grpc_python_out=${generated}`,
    "flyteidl2/connector/service.proto",
  ]);
}
