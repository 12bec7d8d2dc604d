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

/**
 * Adds the gRPC reflection service (v1 and v1alpha) describing the agent services and health, so
 * grpcurl, Postman and friends can call the server without the protos. Parsing the protos takes a
 * few hundred milliseconds and tens of megabytes; {@link addLazyReflection} defers that to the first
 * reflection call.
 */
export async function addReflection(server: ServiceAdder): Promise<void> {
  const [{ default: protobuf }, protoLoader, { ReflectionService }] = await Promise.all([
    import("protobufjs"),
    import("@grpc/proto-loader"),
    import("@grpc/reflection"),
  ]);
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
  const definition = protoLoader.fromJSON(root.toJSON(), { keepCase: true });
  new ReflectionService(definition).addToServer(server);
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
