import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  type ServerWritableStream,
  type ServiceDefinition,
  status,
} from "@grpc/grpc-js";

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export const ServingStatus = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
} as const;
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

/**
 * The services whose health the agent server reports, `""` meaning the whole server: Flyte 1's agent
 * services and Flyte 2's connector services, served side by side.
 */
export const agentServiceNames = [
  "",
  "flyteidl.service.AsyncAgentService",
  "flyteidl.service.SyncAgentService",
  "flyteidl.service.AgentMetadataService",
  "flyteidl2.connector.AsyncConnectorService",
  "flyteidl2.connector.ConnectorMetadataService",
] as const;

// The health messages have one field each, so they are encoded by hand: loading a .proto parser just
// for them would cost tens of milliseconds of start-up before the first SERVING answer.
/** `grpc.health.v1.HealthCheckRequest`. */
export interface HealthCheckRequest {
  readonly service: string;
}

// grpc-js treats a falsy request as a missing one, so the request is an object, never a bare "".
function decodeRequest(buf: Buffer): HealthCheckRequest {
  let i = 0;
  let service = "";
  while (i < buf.length) {
    const [tag, afterTag] = readVarint(buf, i);
    i = afterTag;
    const wireType = tag & 7;
    if (wireType === 2) {
      const [len, afterLen] = readVarint(buf, i);
      if (tag >>> 3 === 1) service = buf.toString("utf8", afterLen, afterLen + len);
      i = afterLen + len;
    } else if (wireType === 0) {
      i = readVarint(buf, i)[1];
    } else if (wireType === 1) {
      i += 8;
    } else if (wireType === 5) {
      i += 4;
    } else {
      throw new Error("malformed HealthCheckRequest");
    }
  }
  return { service };
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = start;
  for (;;) {
    const b = buf[i++];
    if (b === undefined) throw new Error("truncated varint");
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
  }
}

function encodeResponse(s: ServingStatus): Buffer {
  // Field 1 (varint); proto3 leaves the zero value out.
  return s === 0 ? Buffer.alloc(0) : Buffer.from([0x08, s]);
}

const passThrough = (b: Buffer): Buffer => b;

/** `grpc.health.v1.Health` (Check and Watch) as a grpc-js service definition. */
export const HealthService: ServiceDefinition = {
  check: {
    path: "/grpc.health.v1.Health/Check",
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: passThrough,
    originalName: "Check",
  },
  watch: {
    path: "/grpc.health.v1.Health/Watch",
    requestStream: false,
    responseStream: true,
    requestSerialize: passThrough,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: passThrough,
    originalName: "Watch",
  },
};

/**
 * The standard gRPC health service (`grpc.health.v1.Health`), as Kubernetes' gRPC probes and
 * grpc_health_probe call it. Check answers NOT_FOUND for a service it does not know; Watch streams
 * every change and answers SERVICE_UNKNOWN for an unknown service, as the protocol asks.
 */
export class HealthStatus {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<ServerWritableStream<HealthCheckRequest, ServingStatus>>>();

  constructor(
    services: readonly string[] = agentServiceNames,
    initial: ServingStatus = ServingStatus.NOT_SERVING,
  ) {
    for (const s of services) this.#statuses.set(s, initial);
  }

  /** Sets one service's status and tells its watchers. */
  set(service: string, value: ServingStatus): void {
    if (this.#statuses.get(service) === value) return;
    this.#statuses.set(service, value);
    for (const w of this.#watchers.get(service) ?? []) w.write(value);
  }

  /** Sets every known service's status. */
  setAll(value: ServingStatus): void {
    for (const s of this.#statuses.keys()) this.set(s, value);
  }

  /** The current status of a service (undefined when unknown). */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Ends every Watch stream (used when the server shuts down, so watches do not hold it open). */
  endWatches(): void {
    for (const set of this.#watchers.values()) for (const w of set) w.end();
    this.#watchers.clear();
  }

  /** Handlers for `server.addService(HealthService, health.handlers())`. */
  handlers(): {
    check: handleUnaryCall<HealthCheckRequest, ServingStatus>;
    watch: handleServerStreamingCall<HealthCheckRequest, ServingStatus>;
  } {
    return {
      check: (call, callback) => {
        const value = this.#statuses.get(call.request.service);
        if (value === undefined) {
          const details = `unknown service ${JSON.stringify(call.request.service)}`;
          callback({
            code: status.NOT_FOUND,
            details,
            message: details,
            name: "NotFound",
            metadata: new Metadata(),
          });
        } else {
          callback(null, value);
        }
      },
      watch: (call) => {
        const service = call.request.service;
        call.write(this.#statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN);
        let set = this.#watchers.get(service);
        if (!set) this.#watchers.set(service, (set = new Set()));
        set.add(call);
        call.on("cancelled", () => set.delete(call));
      },
    };
  }
}
