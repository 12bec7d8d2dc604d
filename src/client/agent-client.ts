import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import type {
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  DeleteTaskResponse,
  ExecuteTaskSyncRequest,
  ExecuteTaskSyncResponse,
  GetAgentResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsResponse,
} from "../gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceService,
  AsyncAgentServiceService,
  SyncAgentServiceService,
} from "../gen/flyteidl/service/agent.js";

/** TLS settings for a remote endpoint. FlytePropeller itself trusts the system roots only. */
export interface TlsOptions {
  /** PEM file of the CA that signed the server certificate. @default the bundled roots */
  readonly caFile?: string;
  /** Client certificate and key (PEM files), for servers that ask for one. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Host name to verify instead of the endpoint's. */
  readonly serverName?: string;
}

/** How {@link AgentClient} connects. */
export interface AgentClientOptions {
  /** `true`: TLS with the bundled roots; an object: TLS with those files. @default false (plaintext) */
  readonly tls?: boolean | TlsOptions;
  /** A gRPC service config (JSON), e.g. `{"loadBalancingConfig": [{"round_robin":{}}]}`. */
  readonly serviceConfig?: string;
  /**
   * The largest response accepted, in bytes; -1 for any size (to measure an oversized answer).
   * @default gRPC's 4 MiB, which FlytePropeller keeps
   */
  readonly maxReceiveMessageBytes?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Milliseconds until the call's deadline; 0 or undefined for none. */
  readonly deadlineMs?: number;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
}

/** An answer with its size on the wire (the serialized response, never re-encoded) and duration. */
export interface Answer<T> {
  readonly value: T;
  readonly bytes: number;
  readonly ms: number;
}

/** The status name of a gRPC code, e.g. `NOT_FOUND` (`CODE_n` for a code gRPC does not define). */
export function statusName(code: number): string {
  return (status as unknown as Record<number, string | undefined>)[code] ?? `CODE_${code}`;
}

/** A call that ended with a non-OK status. */
export class RpcError extends Error {
  /** The status message. */
  readonly details: string;
  constructor(
    /** The RPC's method name, e.g. `GetTask`. */
    readonly method: string,
    /** gRPC status code. */
    readonly code: number,
    details: string,
    /** From sending the request to the error. */
    readonly ms: number,
  ) {
    // grpc-js appends an empty "Resolution note:" to connection failures.
    const clean = details.replace(/\s*Resolution note:\s*$/, "");
    super(`${method} failed: ${statusName(code)}: ${clean}`);
    this.details = clean;
    this.name = "RpcError";
  }

  /** The status name, e.g. `UNAVAILABLE`. */
  get codeName(): string {
    return statusName(this.code);
  }
}

/** What ExecuteTaskSync's one read got: the first message (undefined when the stream ended without one). */
export interface SyncReceipt {
  readonly first: ExecuteTaskSyncResponse | undefined;
  /** Serialized size of the first message (0 without one). */
  readonly bytes: number;
  readonly ms: number;
}

/** Strips schemes grpc-js does not know (`k8s://svc.ns:port` is resolved by DNS here). */
export function grpcTarget(endpoint: string): string {
  const k8s = /^k8s:\/\/(.+)$/.exec(endpoint);
  return k8s ? `dns:///${k8s[1]}` : endpoint;
}

function channelCredentials(tls: boolean | TlsOptions | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  const read = (p: string | undefined) => (p ? readFileSync(p) : null);
  return credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile));
}

interface Method<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

type Sized<T> = { readonly message: T; readonly bytes: number };

/** Decodes a response and keeps the length of the buffer it came in: its size on the wire. */
function sized<T>(decode: (b: Buffer) => T): (b: Buffer) => Sized<T> {
  return (b) => ({ message: decode(b), bytes: b.length });
}

const nameOf = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/**
 * The one gRPC client of the agent services (AsyncAgentService, SyncAgentService,
 * AgentMetadataService and grpc.health.v1) used by the executor, conformance and deploy. Every answer
 * comes with its wire size and duration; ExecuteTaskSync reads one message and cancels the stream,
 * as FlytePropeller does. Never retries inside the channel unless the service config asks for it.
 */
export class AgentClient {
  private readonly client: Client;

  constructor(
    readonly endpoint: string,
    options: AgentClientOptions = {},
  ) {
    const channel: ChannelOptions = {};
    if (options.serviceConfig) channel["grpc.service_config"] = options.serviceConfig;
    // grpc-go applies a retryPolicy from the service config; without one, nothing retries.
    if (!options.serviceConfig?.includes("retryPolicy")) channel["grpc.enable_retries"] = 0;
    if (options.maxReceiveMessageBytes !== undefined)
      channel["grpc.max_receive_message_length"] = options.maxReceiveMessageBytes;
    if (typeof options.tls === "object" && options.tls.serverName)
      channel["grpc.ssl_target_name_override"] = options.tls.serverName;
    this.client = new Client(grpcTarget(endpoint), channelCredentials(options.tls), channel);
  }

  private unary<Req, Res>(method: Method<Req, Res>, req: Req, opts: CallOptions): Promise<Answer<Res>> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        sized(method.responseDeserialize),
        req,
        new Metadata(),
        opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {},
        (err: ServiceError | null, res?: Sized<Res>) => {
          opts.signal?.removeEventListener("abort", cancel);
          const ms = performance.now() - started;
          if (err || !res) reject(new RpcError(nameOf(method.path), err?.code ?? 2, err?.details ?? "", ms));
          else resolve({ value: res.message, bytes: res.bytes, ms });
        },
      );
      const cancel = () => call.cancel();
      if (opts.signal?.aborted) call.cancel();
      else opts.signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  createTask(req: CreateTaskRequest, opts: CallOptions = {}): Promise<Answer<CreateTaskResponse>> {
    return this.unary(AsyncAgentServiceService.createTask, req, opts);
  }

  getTask(req: GetTaskRequest, opts: CallOptions = {}): Promise<Answer<GetTaskResponse>> {
    return this.unary(AsyncAgentServiceService.getTask, req, opts);
  }

  deleteTask(req: DeleteTaskRequest, opts: CallOptions = {}): Promise<Answer<DeleteTaskResponse>> {
    return this.unary(AsyncAgentServiceService.deleteTask, req, opts);
  }

  listAgents(opts: CallOptions = {}): Promise<Answer<ListAgentsResponse>> {
    return this.unary(AgentMetadataServiceService.listAgents, {}, opts);
  }

  getAgent(name: string, opts: CallOptions = {}): Promise<Answer<GetAgentResponse>> {
    return this.unary(AgentMetadataServiceService.getAgent, { name }, opts);
  }

  /** `grpc.health.v1.Health/Check` for the whole server. */
  health(opts: CallOptions = {}): Promise<Answer<{ status: string }>> {
    const check = healthService.Check as unknown as Method<{ service: string }, { status: string }>;
    return this.unary(check, { service: "" }, opts);
  }

  /**
   * ExecuteTaskSync as FlytePropeller calls it (`flyteplugins/.../webapi/agent/plugin.go:188-247`):
   * send the header and the inputs, half-close, read ONE message and cancel the stream. Resolves
   * with that message, or with none when the server ended the stream OK without one.
   * @throws RpcError when the stream failed before the first message (the deadline included).
   */
  executeTaskSync(
    header: ExecuteTaskSyncRequest,
    inputs: ExecuteTaskSyncRequest,
    opts: CallOptions = {},
  ): Promise<SyncReceipt> {
    const method = SyncAgentServiceService.executeTaskSync;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const stream = this.client.makeBidiStreamRequest(
        method.path,
        method.requestSerialize,
        sized(method.responseDeserialize),
        new Metadata(),
        opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {},
      );
      let settled = false;
      const cancel = () => stream.cancel();
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        opts.signal?.removeEventListener("abort", cancel);
        fn();
      };
      stream.on("data", (m: Sized<ExecuteTaskSyncResponse>) => {
        settle(() => resolve({ first: m.message, bytes: m.bytes, ms: performance.now() - started }));
        // Propeller returns after its one Recv and its deferred cancel ends the stream.
        stream.cancel();
      });
      // After the first message the cancel itself ends in an error event: ignore it.
      stream.on("error", (err: ServiceError) =>
        settle(() =>
          reject(new RpcError("ExecuteTaskSync", err.code, err.details ?? "", performance.now() - started)),
        ),
      );
      stream.on("end", () =>
        settle(() => resolve({ first: undefined, bytes: 0, ms: performance.now() - started })),
      );
      if (opts.signal?.aborted) stream.cancel();
      else opts.signal?.addEventListener("abort", cancel, { once: true });
      stream.write(header);
      stream.write(inputs);
      stream.end();
    });
  }

  close(): void {
    this.client.close();
  }
}
