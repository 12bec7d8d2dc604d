import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import path from "node:path";
import {
  Metadata,
  type MethodDefinition,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
} from "@grpc/grpc-js";
import type protobufjs from "protobufjs";
import type {
  Enum as PbEnum,
  Field as PbField,
  Namespace as PbNamespace,
  Root as PbRoot,
  Service as PbService,
  Type as PbType,
} from "protobufjs";
import type { Logger } from "../core/context.js";

// Health is encoded by hand (see health.ts); reflection still describes it, from this definition.
const healthProto = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: "string", id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: "ServingStatus", id: 1 } },
                  nested: {
                    ServingStatus: {
                      values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 },
                    },
                  },
                },
                Health: {
                  methods: {
                    Check: { requestType: "HealthCheckRequest", responseType: "HealthCheckResponse" },
                    Watch: {
                      requestType: "HealthCheckRequest",
                      responseType: "HealthCheckResponse",
                      responseStream: true,
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** Where `@flyteorg/flyteidl` keeps its .proto files. */
export function flyteidlProtoDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("@flyteorg/flyteidl/package.json")), "protos");
}

type ServiceAdder = Pick<Server, "addService">;

type Protobuf = typeof protobufjs;

/** FieldDescriptorProto.Type numbers (descriptor.proto). */
const FIELD_TYPE: Readonly<Record<string, number>> = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  fixed64: 6,
  fixed32: 7,
  bool: 8,
  string: 9,
  bytes: 12,
  uint32: 13,
  sfixed32: 15,
  sfixed64: 16,
  sint32: 17,
  sint64: 18,
};
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABEL_OPTIONAL = 1;
const LABEL_REPEATED = 3;

/** Files of the well-known types protobufjs bundles without a file name, by type name. */
const WELL_KNOWN_FILES: Readonly<Record<string, string>> = {
  Timestamp: "google/protobuf/timestamp.proto",
  Duration: "google/protobuf/duration.proto",
  Struct: "google/protobuf/struct.proto",
  Value: "google/protobuf/struct.proto",
  ListValue: "google/protobuf/struct.proto",
  NullValue: "google/protobuf/struct.proto",
  Any: "google/protobuf/any.proto",
  Empty: "google/protobuf/empty.proto",
  FieldMask: "google/protobuf/field_mask.proto",
  DoubleValue: "google/protobuf/wrappers.proto",
  FloatValue: "google/protobuf/wrappers.proto",
  Int64Value: "google/protobuf/wrappers.proto",
  UInt64Value: "google/protobuf/wrappers.proto",
  Int32Value: "google/protobuf/wrappers.proto",
  UInt32Value: "google/protobuf/wrappers.proto",
  BoolValue: "google/protobuf/wrappers.proto",
  StringValue: "google/protobuf/wrappers.proto",
  BytesValue: "google/protobuf/wrappers.proto",
};

/** The descriptors reflection answers from: real file names, each with its dependencies. */
export interface ReflectionIndex {
  /** Serialized FileDescriptorProto by file name (`flyteidl/admin/agent.proto`). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The file declaring each fully-qualified symbol (services, methods, messages, enums). */
  readonly symbols: ReadonlyMap<string, string>;
  /** Fully-qualified service names. */
  readonly services: readonly string[];
}

/** `task_type_names` → `TaskTypeNames`, as protoc names map entries. */
function camel(name: string): string {
  return name
    .split("_")
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : ""))
    .join("");
}

const qualified = (fullName: string) => (fullName.startsWith(".") ? fullName : `.${fullName}`);

/**
 * Builds FileDescriptorProtos as protoc would from the protos protobufjs loaded: one per source file
 * (named by its path under the proto root), with its package, `dependency` list and fully-qualified
 * type names. @grpc/reflection 1.0.4 instead answers with one file per package and no dependencies
 * (grpc/grpc-node#3034), which no client can build a descriptor pool from.
 */
export function buildReflectionIndex(
  protobuf: Protobuf,
  root: PbRoot,
  fileOf: (obj: { filename?: string | null; fullName: string; name: string }) => string,
  FileDescriptorProto: PbType,
): ReflectionIndex {
  root.resolveAll();
  interface FileParts {
    readonly pkg: string;
    readonly messageType: object[];
    readonly enumType: object[];
    readonly service: object[];
    readonly deps: Set<string>;
  }
  const files = new Map<string, FileParts>();
  const symbols = new Map<string, string>();
  const services: string[] = [];
  const partsOf = (file: string, pkg: string): FileParts => {
    let parts = files.get(file);
    if (!parts)
      files.set(file, (parts = { pkg, messageType: [], enumType: [], service: [], deps: new Set() }));
    return parts;
  };
  const topFile = (obj: PbType | PbEnum): string => {
    let top: PbType | PbEnum | PbNamespace = obj;
    while (top.parent instanceof protobuf.Type) top = top.parent;
    return fileOf(top);
  };
  const enumDesc = (e: PbEnum, file: string) => {
    symbols.set(e.fullName.slice(1), file);
    return { name: e.name, value: Object.entries(e.values).map(([name, number]) => ({ name, number })) };
  };
  const fieldType = (f: PbField, deps: Set<string>, file: string) => {
    const resolved = f.resolvedType;
    if (resolved) {
      const dep = topFile(resolved);
      if (dep !== file) deps.add(dep);
      return {
        type: resolved instanceof protobuf.Enum ? TYPE_ENUM : TYPE_MESSAGE,
        typeName: qualified(resolved.fullName),
      };
    }
    const type = FIELD_TYPE[f.type];
    if (type === undefined) throw new Error(`reflection: unknown field type ${f.type} in ${f.fullName}`);
    return { type };
  };
  const messageDesc = (t: PbType, file: string, deps: Set<string>): object => {
    symbols.set(t.fullName.slice(1), file);
    const nestedType: object[] = [];
    const oneofs = t.oneofsArray;
    const field = t.fieldsArray.map((f) => {
      if (f instanceof protobuf.MapField) {
        const entry = `${camel(f.name)}Entry`;
        nestedType.push({
          name: entry,
          field: [
            { name: "key", number: 1, label: LABEL_OPTIONAL, type: FIELD_TYPE[f.keyType] },
            { name: "value", number: 2, label: LABEL_OPTIONAL, ...fieldType(f, deps, file) },
          ],
          options: { mapEntry: true },
        });
        return {
          name: f.name,
          number: f.id,
          label: LABEL_REPEATED,
          type: TYPE_MESSAGE,
          typeName: `${qualified(t.fullName)}.${entry}`,
        };
      }
      const options = f.options;
      return {
        name: f.name,
        number: f.id,
        label: f.repeated ? LABEL_REPEATED : LABEL_OPTIONAL,
        ...fieldType(f, deps, file),
        ...(f.partOf ? { oneofIndex: oneofs.indexOf(f.partOf) } : {}),
        ...(options?.proto3_optional ? { proto3Optional: true } : {}),
      };
    });
    const enumType: object[] = [];
    for (const n of t.nestedArray) {
      if (n instanceof protobuf.Type) nestedType.push(messageDesc(n, file, deps));
      else if (n instanceof protobuf.Enum) enumType.push(enumDesc(n, file));
    }
    return { name: t.name, field, nestedType, enumType, oneofDecl: oneofs.map((o) => ({ name: o.name })) };
  };
  const serviceDesc = (s: PbService, file: string, deps: Set<string>): object => {
    const name = s.fullName.slice(1);
    symbols.set(name, file);
    services.push(name);
    return {
      name: s.name,
      method: s.methodsArray.map((m) => {
        symbols.set(`${name}.${m.name}`, file);
        for (const t of [m.resolvedRequestType, m.resolvedResponseType]) {
          const dep = t && topFile(t);
          if (dep && dep !== file) deps.add(dep);
        }
        return {
          name: m.name,
          inputType: qualified(m.resolvedRequestType!.fullName),
          outputType: qualified(m.resolvedResponseType!.fullName),
          ...(m.requestStream ? { clientStreaming: true } : {}),
          ...(m.responseStream ? { serverStreaming: true } : {}),
        };
      }),
    };
  };
  const walk = (ns: PbNamespace): void => {
    for (const n of ns.nestedArray) {
      if (n instanceof protobuf.Type) {
        const file = fileOf(n);
        const parts = partsOf(file, ns.fullName.slice(1));
        parts.messageType.push(messageDesc(n, file, parts.deps));
      } else if (n instanceof protobuf.Enum) {
        const file = fileOf(n);
        partsOf(file, ns.fullName.slice(1)).enumType.push(enumDesc(n, file));
      } else if (n instanceof protobuf.Service) {
        const file = fileOf(n);
        const parts = partsOf(file, ns.fullName.slice(1));
        parts.service.push(serviceDesc(n, file, parts.deps));
      } else if (n instanceof protobuf.Namespace) {
        walk(n);
      }
    }
  };
  walk(root);
  const encoded = new Map<string, Uint8Array>();
  for (const [name, parts] of files) {
    const message = FileDescriptorProto.fromObject({
      name,
      package: parts.pkg,
      dependency: [...parts.deps].sort(),
      messageType: parts.messageType,
      enumType: parts.enumType,
      service: parts.service,
      syntax: "proto3",
    });
    encoded.set(name, FileDescriptorProto.encode(message).finish());
  }
  return { files: encoded, symbols, services: services.sort() };
}

/** A FileDescriptorProto as protobufjs's descriptor types decode it (only what the index reads). */
interface DecodedFile {
  name: string;
  package?: string;
  messageType?: DecodedMessage[];
  enumType?: { name: string }[];
  service?: { name: string; method?: { name: string }[] }[];
}
interface DecodedMessage {
  name: string;
  nestedType?: DecodedMessage[];
  enumType?: { name: string }[];
}

/**
 * Adds Flyte 2's files to `index` as protoc wrote them (the descriptors embedded in
 * `@flyteorg/flyteidl2`, kept in src/gen/v2/descriptors.ts): every file with its real name and
 * dependency list, and the symbols each declares. A file name both protocols use (the well-known
 * google/protobuf files) is answered with Flyte 2's copy, which protoc wrote.
 */
export function addSerializedFiles(
  index: ReflectionIndex,
  serialized: readonly Uint8Array[],
  FileDescriptorProto: PbType,
): ReflectionIndex {
  const files = new Map(index.files);
  const symbols = new Map(index.symbols);
  const services = new Set(index.services);
  for (const bytes of serialized) {
    const file = FileDescriptorProto.toObject(FileDescriptorProto.decode(bytes)) as DecodedFile;
    files.set(file.name, bytes);
    const prefix = file.package ? `${file.package}.` : "";
    const addMessage = (scope: string, m: DecodedMessage): void => {
      const name = `${scope}${m.name}`;
      symbols.set(name, file.name);
      for (const e of m.enumType ?? []) symbols.set(`${name}.${e.name}`, file.name);
      for (const n of m.nestedType ?? []) addMessage(`${name}.`, n);
    };
    for (const m of file.messageType ?? []) addMessage(prefix, m);
    for (const e of file.enumType ?? []) symbols.set(`${prefix}${e.name}`, file.name);
    for (const svc of file.service ?? []) {
      const name = `${prefix}${svc.name}`;
      symbols.set(name, file.name);
      services.add(name);
      for (const m of svc.method ?? []) symbols.set(`${name}.${m.name}`, file.name);
    }
  }
  return { files, symbols, services: [...services].sort() };
}

/**
 * The protos reflection describes: Flyte 1's agent services, Flyte 2's connector services, health,
 * and descriptor.proto to encode with.
 */
async function loadReflectionIndex(): Promise<{ index: ReflectionIndex; protobuf: Protobuf }> {
  const { default: protobuf } = await import("protobufjs");
  const protoDir = flyteidlProtoDir();
  // service/agent.proto imports google/api/annotations.proto only for HTTP gateway options, which
  // reflection clients do not need; an empty stand-in keeps the npm package free of those protos.
  protobuf.common("google/api/annotations.proto", {
    nested: { google: { nested: { api: { nested: {} } } } },
  });
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith("google/") || path.isAbsolute(target) ? target : path.join(protoDir, target);
  root.loadSync("flyteidl/service/agent.proto", { keepCase: true });
  root.addJSON(healthProto.nested as Parameters<typeof root.addJSON>[0]);
  // protobufjs's descriptor.proto types encode the answers.
  // A CommonJS module whose exports Node cannot list statically: take them from the default export.
  const descriptor = (await import("protobufjs/ext/descriptor/index.js")) as unknown as {
    default: { FileDescriptorProto: PbType };
  };
  const { FileDescriptorProto } = descriptor.default;
  const index = buildReflectionIndex(
    protobuf,
    root,
    (obj) => {
      if (obj.filename) return path.relative(protoDir, obj.filename).split(path.sep).join("/");
      if (obj.fullName.startsWith(".google.protobuf.")) {
        const file = WELL_KNOWN_FILES[obj.name];
        if (file) return file;
      }
      if (obj.fullName.startsWith(".grpc.health.v1.")) return "grpc/health/v1/health.proto";
      throw new Error(`reflection: no file known for ${obj.fullName}`);
    },
    FileDescriptorProto,
  );
  const { flyteidl2FileDescriptors } = await import("../gen/v2/descriptors.js");
  const v2 = flyteidl2FileDescriptors.map((b64) => Buffer.from(b64, "base64"));
  return { index: addSerializedFiles(index, v2, FileDescriptorProto), protobuf };
}

/** The reflection protocol's messages (v1 and v1alpha are the same on the wire). */
const reflectionProto = {
  nested: {
    ExtensionRequest: {
      fields: { containing_type: { type: "string", id: 1 }, extension_number: { type: "int32", id: 2 } },
    },
    ServerReflectionRequest: {
      oneofs: {
        message_request: {
          oneof: [
            "file_by_filename",
            "file_containing_symbol",
            "file_containing_extension",
            "all_extension_numbers_of_type",
            "list_services",
          ],
        },
      },
      fields: {
        host: { type: "string", id: 1 },
        file_by_filename: { type: "string", id: 3 },
        file_containing_symbol: { type: "string", id: 4 },
        file_containing_extension: { type: "ExtensionRequest", id: 5 },
        all_extension_numbers_of_type: { type: "string", id: 6 },
        list_services: { type: "string", id: 7 },
      },
    },
    ServerReflectionResponse: {
      fields: {
        valid_host: { type: "string", id: 1 },
        original_request: { type: "ServerReflectionRequest", id: 2 },
        file_descriptor_response: { type: "FileDescriptorResponse", id: 4 },
        all_extension_numbers_response: { type: "ExtensionNumberResponse", id: 5 },
        list_services_response: { type: "ListServiceResponse", id: 6 },
        error_response: { type: "ErrorResponse", id: 7 },
      },
    },
    FileDescriptorResponse: { fields: { file_descriptor_proto: { rule: "repeated", type: "bytes", id: 1 } } },
    ExtensionNumberResponse: {
      fields: {
        base_type_name: { type: "string", id: 1 },
        extension_number: { rule: "repeated", type: "int32", id: 2 },
      },
    },
    ListServiceResponse: { fields: { service: { rule: "repeated", type: "ServiceResponse", id: 1 } } },
    ServiceResponse: { fields: { name: { type: "string", id: 1 } } },
    ErrorResponse: {
      fields: { error_code: { type: "int32", id: 1 }, error_message: { type: "string", id: 2 } },
    },
  },
};

interface ReflectionRequest {
  host?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

/** Answers one reflection request from the index. */
export function answerReflection(
  index: ReflectionIndex,
  request: ReflectionRequest,
): Record<string, unknown> {
  const base = { valid_host: request.host ?? "", original_request: request };
  const notFound = (message: string) => ({
    ...base,
    error_response: { error_code: status.NOT_FOUND, error_message: message },
  });
  const file = (name: string | undefined, what: string) => {
    const bytes = name === undefined ? undefined : index.files.get(name);
    return bytes ? { ...base, file_descriptor_response: { file_descriptor_proto: [bytes] } } : notFound(what);
  };
  if (request.list_services !== undefined)
    return { ...base, list_services_response: { service: index.services.map((name) => ({ name })) } };
  if (request.file_by_filename !== undefined)
    return file(request.file_by_filename, `file ${request.file_by_filename} not found`);
  if (request.file_containing_symbol !== undefined) {
    const symbol = request.file_containing_symbol.replace(/^\./, "");
    return file(index.symbols.get(symbol), `symbol ${symbol} not found`);
  }
  if (request.file_containing_extension !== undefined) return notFound("no extensions are declared");
  if (request.all_extension_numbers_of_type !== undefined)
    return notFound(`type ${request.all_extension_numbers_of_type} has no extensions`);
  return {
    ...base,
    error_response: { error_code: status.INVALID_ARGUMENT, error_message: "empty reflection request" },
  };
}

/**
 * Adds the gRPC reflection service (v1 and v1alpha) describing the agent services (Flyte 1 and
 * Flyte 2) and health, so
 * grpcurl, Postman and friends can describe and call the server without the protos: every file is
 * answered under its real name with its dependencies. Parsing the protos takes a few hundred
 * milliseconds and tens of megabytes; {@link addLazyReflection} defers that to the first call.
 */
export async function addReflection(server: ServiceAdder): Promise<void> {
  const { index, protobuf } = await loadReflectionIndex();
  const messages = protobuf.Root.fromJSON(reflectionProto);
  const Request = messages.lookupType("ServerReflectionRequest");
  const Response = messages.lookupType("ServerReflectionResponse");
  for (const methodPath of reflectionPaths) {
    const definition: ServiceDefinition = {
      ServerReflectionInfo: {
        path: methodPath,
        requestStream: true,
        responseStream: true,
        requestSerialize: (m: unknown) =>
          Buffer.from(Request.encode(Request.fromObject(m as object)).finish()),
        requestDeserialize: (b: Buffer) => Request.toObject(Request.decode(b), { oneofs: false }),
        responseSerialize: (m: unknown) =>
          Buffer.from(Response.encode(Response.fromObject(m as object)).finish()),
        responseDeserialize: (b: Buffer) => Response.toObject(Response.decode(b)),
      },
    };
    server.addService(definition, {
      ServerReflectionInfo: (call: ServerDuplexStream<ReflectionRequest, unknown>) => {
        call.on("data", (request: ReflectionRequest) => call.write(answerReflection(index, request)));
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
 * Serves gRPC reflection (v1 and v1alpha) at once, but parses the protos only when the first
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
