import { createRequire } from "node:module";
import path from "node:path";
import type { Server } from "@grpc/grpc-js";

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

/**
 * Adds the gRPC reflection service (v1 and v1alpha) describing the agent services and health, so
 * grpcurl, Postman and friends can call the server without the protos. Parsing the protos takes a
 * few hundred milliseconds, which is why the server adds this after it reports SERVING.
 */
export async function addReflection(server: Pick<Server, "addService">): Promise<void> {
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
