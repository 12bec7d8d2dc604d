/**
 * The reflection index and codec in process: the descriptors `npm run generate` wrote (Flyte 1,
 * health, Flyte 2) form a closed set a descriptor pool can be built from, and requests and responses
 * round-trip through an independent codec (proto-loader over grpc/reflection/v1/reflection.proto).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { loadSync, type MethodDefinition } from "@grpc/proto-loader";
import { status } from "@grpc/grpc-js";
import { beforeAll, describe, expect, it } from "vitest";
import { fileDescriptors, fileNames } from "../../packages/runtime/src/gen/descriptors.js";
import { flyteidl2FileDescriptors } from "../../packages/runtime/src/gen/v2/descriptors.js";
import {
  answerReflection,
  decodeReflectionRequest,
  encodeReflectionResponse,
  indexFileDescriptors,
  type ReflectionIndex,
} from "../../packages/runtime/src/server/reflection.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const reflectionProtos = path.resolve(here, "../../node_modules/@grpc/reflection/build/proto");

/** The reflection method as a client sees it, with protobufjs's codec. */
const info = loadSync("grpc/reflection/v1/reflection.proto", {
  includeDirs: [reflectionProtos],
  keepCase: true,
  oneofs: true,
})["grpc.reflection.v1.ServerReflection"] as Record<string, MethodDefinition<object, object>>;
const method = info["ServerReflectionInfo"]!;

interface Response {
  valid_host: string;
  original_request?: { file_containing_symbol?: string; list_services?: string };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  list_services_response?: { service: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
}

/** Encodes `request` as a client would, answers it, and decodes the answer as a client would. */
function ask(index: ReflectionIndex, request: object): Response {
  const decoded = decodeReflectionRequest(method.requestSerialize(request));
  return method.responseDeserialize(
    Buffer.from(encodeReflectionResponse(decoded, answerReflection(index, decoded))),
  ) as Response;
}

const decodeFile = (bytes: Uint8Array) => fromBinary(FileDescriptorProtoSchema, bytes);

describe("reflection from the generated descriptors", () => {
  let index: ReflectionIndex;
  beforeAll(async () => {
    index = await indexFileDescriptors(
      [...fileDescriptors, ...flyteidl2FileDescriptors].map((b) => Buffer.from(b, "base64")),
    );
  });

  it("lists Flyte 1's, Flyte 2's and health's services", () => {
    const response = ask(index, { host: "h", list_services: "" });
    expect(response.valid_host).toBe("h");
    expect(response.list_services_response!.service.map((s) => s.name)).toEqual([
      "flyteidl.service.AgentMetadataService",
      "flyteidl.service.AsyncAgentService",
      "flyteidl.service.SyncAgentService",
      "flyteidl2.connector.AsyncConnectorService",
      "flyteidl2.connector.ConnectorMetadataService",
      "grpc.health.v1.Health",
    ]);
  });

  it("answers every file's dependencies by name: the set is closed", () => {
    const missing: string[] = [];
    for (const [name, bytes] of index.files) {
      for (const dep of decodeFile(bytes).dependency)
        if (!index.files.has(dep)) missing.push(`${name} -> ${dep}`);
    }
    expect(missing).toEqual([]);
    // buf writes each file after its dependencies, as a pool is built.
    expect(fileNames.indexOf("flyteidl/core/literals.proto")).toBeLessThan(
      fileNames.indexOf("flyteidl/admin/agent.proto"),
    );
  });

  it("finds the file of a service, a method, a nested message and a nested enum", () => {
    const fileOf = (symbol: string) =>
      decodeFile(
        ask(index, { file_containing_symbol: symbol }).file_descriptor_response!.file_descriptor_proto[0]!,
      ).name;
    expect(fileOf("flyteidl.service.AsyncAgentService")).toBe("flyteidl/service/agent.proto");
    expect(fileOf("flyteidl.service.AsyncAgentService.CreateTask")).toBe("flyteidl/service/agent.proto");
    expect(fileOf(".flyteidl.admin.CreateTaskRequest")).toBe("flyteidl/admin/agent.proto");
    expect(fileOf("flyteidl.core.TaskExecution.Phase")).toBe("flyteidl/core/execution.proto");
    expect(fileOf("flyteidl2.connector.CreateTaskRequest")).toBe("flyteidl2/connector/connector.proto");
  });

  it("describes health with the methods the server serves: Check and Watch", () => {
    const response = ask(index, { file_containing_symbol: "grpc.health.v1.Health" });
    const file = decodeFile(response.file_descriptor_response!.file_descriptor_proto[0]!);
    expect(file.name).toBe("grpc/health/v1/health.proto");
    expect(file.service[0]!.method.map((m) => [m.name, m.serverStreaming])).toEqual([
      ["Check", false],
      ["Watch", true],
    ]);
  });

  it("echoes the request and answers NOT_FOUND for an unknown symbol or file", () => {
    const symbol = ask(index, { file_containing_symbol: "no.Such" });
    expect(symbol.original_request?.file_containing_symbol).toBe("no.Such");
    expect(symbol.error_response).toEqual({
      error_code: status.NOT_FOUND,
      error_message: "symbol no.Such not found",
    });
    expect(ask(index, { file_by_filename: "x.proto" }).error_response?.error_code).toBe(status.NOT_FOUND);
    expect(
      ask(index, { file_containing_extension: { containing_type: "a", extension_number: 1 } }).error_response,
    ).toMatchObject({ error_code: status.NOT_FOUND });
    expect(ask(index, { host: "h" }).error_response?.error_code).toBe(status.INVALID_ARGUMENT);
  });

  it("decodes the last request of the oneof and skips unknown fields", () => {
    const bytes = Buffer.concat([
      method.requestSerialize({ file_by_filename: "a.proto" }),
      Buffer.from([0x40, 0x01]), // field 8, varint: not in reflection.proto
      method.requestSerialize({ list_services: "*" }),
    ]);
    expect(decodeReflectionRequest(bytes).request).toEqual({ kind: "listServices", value: "*" });
    expect(() => decodeReflectionRequest(Buffer.from([0x1a, 0x05, 0x61]))).toThrow();
  });
});
