import { EventEmitter } from "node:events";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  Metadata,
  type MethodDefinition,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
} from "@grpc/grpc-js";
import type { Logger } from "../core/context.js";

type ServiceAdder = Pick<Server, "addService">;

/** The descriptors reflection answers from: real file names, each with its dependencies. */
export interface ReflectionIndex {
  /** Serialized FileDescriptorProto by file name (`flyteidl/admin/agent.proto`). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The file declaring each fully-qualified symbol (services, methods, messages, enums). */
  readonly symbols: ReadonlyMap<string, string>;
  /** Fully-qualified service names. */
  readonly services: readonly string[];
}

/** What the index reads of a FileDescriptorProto. */
interface DescribedMessage {
  readonly name: string;
  readonly nestedType: readonly DescribedMessage[];
  readonly enumType: readonly { readonly name: string }[];
}

/**
 * Indexes serialized FileDescriptorProtos, as protoc or buf wrote them: every file under its real
 * name, and the symbols it declares. A file name given twice (the well-known google/protobuf files
 * both protocols import) is answered with the later copy.
 */
export async function indexFileDescriptors(serialized: readonly Uint8Array[]): Promise<ReflectionIndex> {
  const { fromBinary } = await import("@bufbuild/protobuf");
  const { FileDescriptorProtoSchema } = await import("@bufbuild/protobuf/wkt");
  const files = new Map<string, Uint8Array>();
  const symbols = new Map<string, string>();
  const services = new Set<string>();
  for (const bytes of serialized) {
    const file = fromBinary(FileDescriptorProtoSchema, bytes);
    files.set(file.name, bytes);
    const prefix = file.package ? `${file.package}.` : "";
    const addMessage = (scope: string, m: DescribedMessage): void => {
      const name = `${scope}${m.name}`;
      symbols.set(name, file.name);
      for (const e of m.enumType) symbols.set(`${name}.${e.name}`, file.name);
      for (const n of m.nestedType) addMessage(`${name}.`, n);
    };
    for (const m of file.messageType) addMessage(prefix, m);
    for (const e of file.enumType) symbols.set(`${prefix}${e.name}`, file.name);
    for (const svc of file.service) {
      const name = `${prefix}${svc.name}`;
      symbols.set(name, file.name);
      services.add(name);
      for (const m of svc.method) symbols.set(`${name}.${m.name}`, file.name);
    }
  }
  return { files, symbols, services: [...services].sort() };
}

/**
 * The files reflection describes, as `npm run generate` wrote them with buf: Flyte 1's agent
 * services and health (src/gen/descriptors.ts), then Flyte 2's connector services
 * (src/gen/v2/descriptors.ts), each with every file it imports. Nothing is parsed from .proto files
 * at run time.
 */
async function loadReflectionIndex(): Promise<ReflectionIndex> {
  const [v1, v2] = await Promise.all([import("../gen/descriptors.js"), import("../gen/v2/descriptors.js")]);
  return indexFileDescriptors(
    [...v1.fileDescriptors, ...v2.flyteidl2FileDescriptors].map((b64) => Buffer.from(b64, "base64")),
  );
}

/**
 * A `grpc.reflection.v1.ServerReflectionRequest` (v1alpha is the same on the wire): the host, the
 * one request of its `message_request` oneof, and its own bytes, which the response echoes as
 * `original_request`.
 */
export interface ReflectionRequest {
  readonly host: string;
  readonly request?:
    | {
        readonly kind: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType";
        readonly value: string;
      }
    | { readonly kind: "listServices"; readonly value: string }
    | { readonly kind: "fileContainingExtension"; readonly value: Uint8Array };
  readonly bytes: Uint8Array;
}

/** A `ServerReflectionResponse`, less `valid_host` and `original_request`, which come from the request. */
export type ReflectionAnswer =
  | { readonly files: readonly Uint8Array[] }
  | { readonly services: readonly string[] }
  | { readonly error: { readonly code: status; readonly message: string } };

/** `ServerReflectionRequest` field numbers (grpc/reflection/v1/reflection.proto). */
const REQUEST_FIELDS: Readonly<Record<number, NonNullable<ReflectionRequest["request"]>["kind"]>> = {
  3: "fileByFilename",
  4: "fileContainingSymbol",
  5: "fileContainingExtension",
  6: "allExtensionNumbersOfType",
  7: "listServices",
};

/** Decodes a `ServerReflectionRequest`; throws on malformed bytes. */
export function decodeReflectionRequest(bytes: Uint8Array): ReflectionRequest {
  const reader = new BinaryReader(bytes);
  let host = "";
  let request: ReflectionRequest["request"];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    const kind = field === 1 ? "host" : REQUEST_FIELDS[field];
    if (kind === undefined || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, field);
      continue;
    }
    // Every field is a string or a message; of a oneof, the last one on the wire wins.
    if (kind === "host") host = reader.string();
    else if (kind === "fileContainingExtension") request = { kind, value: reader.bytes() };
    else request = { kind, value: reader.string() };
  }
  return { host, request, bytes };
}

/** Encodes the `ServerReflectionResponse` answering `request`. */
export function encodeReflectionResponse(request: ReflectionRequest, answer: ReflectionAnswer): Uint8Array {
  const w = new BinaryWriter();
  if (request.host) w.tag(1, WireType.LengthDelimited).string(request.host);
  w.tag(2, WireType.LengthDelimited).bytes(request.bytes);
  if ("files" in answer) {
    // FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
    w.tag(4, WireType.LengthDelimited).fork();
    for (const file of answer.files) w.tag(1, WireType.LengthDelimited).bytes(file);
    w.join();
  } else if ("services" in answer) {
    // ListServiceResponse { repeated ServiceResponse service = 1; } ServiceResponse { string name = 1; }
    w.tag(6, WireType.LengthDelimited).fork();
    for (const name of answer.services)
      w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(name).join();
    w.join();
  } else {
    // ErrorResponse { int32 error_code = 1; string error_message = 2; }
    w.tag(7, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.Varint)
      .int32(answer.error.code)
      .tag(2, WireType.LengthDelimited)
      .string(answer.error.message)
      .join();
  }
  return w.finish();
}

/** Answers one reflection request from the index. */
export function answerReflection(index: ReflectionIndex, request: ReflectionRequest): ReflectionAnswer {
  const notFound = (message: string): ReflectionAnswer => ({ error: { code: status.NOT_FOUND, message } });
  const file = (name: string | undefined, what: string): ReflectionAnswer => {
    const bytes = name === undefined ? undefined : index.files.get(name);
    return bytes ? { files: [bytes] } : notFound(what);
  };
  const r = request.request;
  switch (r?.kind) {
    case "listServices":
      return { services: index.services };
    case "fileByFilename":
      return file(r.value, `file ${r.value} not found`);
    case "fileContainingSymbol": {
      const symbol = r.value.replace(/^\./, "");
      return file(index.symbols.get(symbol), `symbol ${symbol} not found`);
    }
    case "fileContainingExtension":
      return notFound("no extensions are declared");
    case "allExtensionNumbersOfType":
      return notFound(`type ${r.value} has no extensions`);
    case undefined:
      return { error: { code: status.INVALID_ARGUMENT, message: "empty reflection request" } };
  }
}

/**
 * Adds the gRPC reflection service (v1 and v1alpha) describing the agent services (Flyte 1 and
 * Flyte 2) and health, so grpcurl, Postman and friends can describe and call the server without the
 * protos: every file is answered under its real name, as buf wrote it, with its dependencies.
 * Decoding the descriptors takes some milliseconds and a few megabytes; {@link addLazyReflection}
 * defers that to the first call.
 */
export async function addReflection(server: ServiceAdder): Promise<void> {
  const index = await loadReflectionIndex();
  for (const methodPath of reflectionPaths) {
    const definition: ServiceDefinition = {
      ServerReflectionInfo: {
        path: methodPath,
        requestStream: true,
        responseStream: true,
        requestSerialize: (m: ReflectionRequest) => Buffer.from(m.bytes),
        requestDeserialize: (b: Buffer) => decodeReflectionRequest(b),
        responseSerialize: (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength),
        responseDeserialize: (b: Buffer) => b,
      },
    };
    server.addService(definition, {
      ServerReflectionInfo: (call: ServerDuplexStream<ReflectionRequest, Uint8Array>) => {
        call.on("data", (request: ReflectionRequest) =>
          call.write(encodeReflectionResponse(request, answerReflection(index, request))),
        );
        call.on("end", () => call.end());
      },
    });
  }
}

/** The reflection method, in each version clients ask for. */
const reflectionPaths = [
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
] as const;

type StreamHandler = (call: ServerDuplexStream<unknown, unknown>) => void;

interface RealMethod {
  readonly definition: MethodDefinition<unknown, unknown>;
  readonly handler: StreamHandler;
}

const passThrough = (b: Buffer): Buffer => b;

function rawDefinition(methodPath: string): ServiceDefinition {
  return {
    ServerReflectionInfo: {
      path: methodPath,
      requestStream: true,
      responseStream: true,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    },
  };
}

/** Builds the real reflection handlers, keyed by method path, without a server. */
async function buildReflection(): Promise<Map<string, RealMethod>> {
  const methods = new Map<string, RealMethod>();
  await addReflection({
    addService(service: ServiceDefinition, implementation: Record<string, unknown>) {
      for (const [name, definition] of Object.entries(service)) {
        const handler = implementation[name] ?? implementation[definition.originalName ?? ""];
        if (typeof handler === "function") {
          methods.set(definition.path, {
            definition: definition as MethodDefinition<unknown, unknown>,
            handler: handler as StreamHandler,
          });
        }
      }
    },
  });
  return methods;
}

/**
 * The stream the real reflection handler talks to: it reads decoded requests and writes responses
 * that go out encoded on the raw call. The handler uses only `on("data"|"end")`, `write` and `end`.
 */
class DecodedStream extends EventEmitter {
  constructor(
    private readonly call: ServerDuplexStream<Buffer, Buffer>,
    private readonly definition: MethodDefinition<unknown, unknown>,
  ) {
    super();
  }
  write(message: unknown): boolean {
    return this.call.write(this.definition.responseSerialize(message));
  }
  end(): void {
    this.call.end();
  }
}

function failStream(call: ServerDuplexStream<Buffer, Buffer>, code: status, details: string): void {
  // grpc-js sends the status of an "error" event on the stream.
  call.emit("error", Object.assign(new Error(details), { code, details, metadata: new Metadata() }));
}

/**
 * Serves gRPC reflection (v1 and v1alpha) at once, but decodes the descriptors only when the first
 * reflection call arrives: a server nobody introspects never pays their memory. Until then each
 * call's requests are held, then handed to the real implementation.
 */
export function addLazyReflection(server: ServiceAdder, logger?: Logger): void {
  let built: Promise<Map<string, RealMethod>> | undefined;
  const real = (): Promise<Map<string, RealMethod>> =>
    (built ??= buildReflection().catch((err: unknown) => {
      logger?.warn({ err }, "gRPC reflection is unavailable");
      throw err;
    }));
  for (const methodPath of reflectionPaths) {
    server.addService(rawDefinition(methodPath), {
      ServerReflectionInfo: (call: ServerDuplexStream<Buffer, Buffer>) => {
        const held: Buffer[] = [];
        let ended = false;
        let target: { stream: DecodedStream; decode: (b: Buffer) => unknown } | undefined;
        const deliver = (b: Buffer): void => {
          if (!target) return;
          let message: unknown;
          try {
            message = target.decode(b);
          } catch {
            failStream(call, status.INTERNAL, "Error deserializing request");
            return;
          }
          target.stream.emit("data", message);
        };
        call.on("data", (b: Buffer) => (target ? deliver(b) : held.push(b)));
        call.on("end", () => (target ? target.stream.emit("end") : (ended = true)));
        real().then(
          (methods) => {
            const method = methods.get(methodPath);
            if (!method) {
              failStream(call, status.UNIMPLEMENTED, `gRPC reflection does not serve ${methodPath}`);
              return;
            }
            const stream = new DecodedStream(call, method.definition);
            target = { stream, decode: (b) => method.definition.requestDeserialize(b) };
            method.handler(stream as unknown as ServerDuplexStream<unknown, unknown>);
            for (const b of held.splice(0)) deliver(b);
            if (ended) stream.emit("end");
          },
          (err: unknown) =>
            failStream(
              call,
              status.UNIMPLEMENTED,
              `gRPC reflection is unavailable: ${err instanceof Error ? err.message : String(err)}`,
            ),
        );
      },
    });
  }
}
