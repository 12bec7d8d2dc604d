import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  type ChannelCredentials,
  type ChannelOptions,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import type {
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  ExecuteTaskSyncRequest,
  ExecuteTaskSyncResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsResponse,
} from "../gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceClient,
  AsyncAgentServiceClient,
  SyncAgentServiceClient,
} from "../gen/flyteidl/service/agent.js";
import { type AgentDeployment, deadlineFor, type RpcOperation } from "./propeller-config.js";

/** TLS settings for a remote endpoint (FlytePropeller itself uses system roots only). */
export interface TlsOptions {
  /** PEM file of the CA that signed the server certificate. @default system roots */
  readonly caFile?: string;
  /** Client certificate and key (PEM files), for servers that ask for one. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Host name to verify instead of the endpoint's. */
  readonly serverName?: string;
}

/** A failed call: the gRPC status code name and the details. */
export class RpcError extends Error {
  constructor(
    readonly op: RpcOperation,
    /** gRPC status code. */
    readonly code: number,
    /** The status name, e.g. `UNAVAILABLE`. */
    readonly codeName: string,
    readonly details: string,
  ) {
    super(`${op} failed: ${codeName}: ${details}`);
    this.name = "RpcError";
  }
}

/** The status name of a gRPC code, e.g. `NOT_FOUND` (`CODE_n` for a code gRPC does not define). */
export function statusName(code: number): string {
  return (status as unknown as Record<number, string | undefined>)[code] ?? `CODE_${code}`;
}

function toRpcError(op: RpcOperation, err: unknown): RpcError {
  const e = err as Partial<ServiceError>;
  const code = typeof e.code === "number" ? e.code : 2;
  return new RpcError(op, code, statusName(code), e.details ?? e.message ?? String(err));
}

/** Strips schemes grpc-js does not know (`k8s://svc.ns:port` is resolved by DNS here). */
export function grpcTarget(endpoint: string): string {
  const k8s = /^k8s:\/\/(.+)$/.exec(endpoint);
  return k8s ? `dns:///${k8s[1]}` : endpoint;
}

function channelCredentials(deployment: AgentDeployment, tls: TlsOptions | undefined): ChannelCredentials {
  if (deployment.insecure) return credentials.createInsecure();
  const read = (p: string | undefined) => (p ? readFileSync(p) : null);
  return credentials.createSsl(read(tls?.caFile), read(tls?.keyFile), read(tls?.certFile));
}

/** One finished RPC, as an {@link RpcObserver} sees it. */
export interface RpcRecord {
  readonly op: RpcOperation;
  /** From sending the request to the answer (or the error), not counting a wait for a call slot. */
  readonly durationMs: number;
  /** The gRPC status name: `OK`, `UNAVAILABLE`, `DEADLINE_EXCEEDED`, ... */
  readonly code: string;
}

/** Called once per finished RPC; for latency figures and error counts (it must not throw). */
export type RpcObserver = (record: RpcRecord) => void;

/**
 * At most `max` calls in flight; the others wait in order. FlytePropeller's calls to an agent are
 * bounded the same way, by its worker pools.
 */
export class CallSlots {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
  }

  /** Resolves when a slot is free; call the returned function to give it back. */
  async acquire(): Promise<() => void> {
    if (this.inFlight < this.max) this.inFlight += 1;
    // The releaser hands its slot straight to the next waiter, so inFlight stays counted.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting[this.head];
      if (next) {
        this.waiting[this.head] = undefined as never;
        this.head += 1;
        if (this.head > 1024 && this.head * 2 > this.waiting.length) {
          this.waiting.splice(0, this.head);
          this.head = 0;
        }
        next();
      } else this.inFlight -= 1;
    };
  }
}

/** What an {@link AgentConnection} does besides calling. */
export interface AgentConnectionOptions {
  /** Sees every finished call. */
  readonly onRpc?: RpcObserver;
  /**
   * Calls of an operation wait for a slot of its pool first; several operations and connections may
   * share one pool. @default no limit
   */
  readonly slots?: Partial<Record<RpcOperation, CallSlots>>;
}

/** The three agent services of one deployment, with FlytePropeller's deadlines on every call. */
export class AgentConnection {
  private readonly asyncClient: AsyncAgentServiceClient;
  private readonly syncClient: SyncAgentServiceClient;
  private readonly metadataClient: AgentMetadataServiceClient;
  private readonly onRpc: RpcObserver | undefined;
  private readonly slots: Partial<Record<RpcOperation, CallSlots>>;

  constructor(
    readonly deployment: AgentDeployment,
    tls?: TlsOptions,
    connectionOptions: AgentConnectionOptions = {},
  ) {
    this.onRpc = connectionOptions.onRpc;
    this.slots = connectionOptions.slots ?? {};
    const target = grpcTarget(deployment.endpoint);
    const creds = channelCredentials(deployment, tls);
    const options: ChannelOptions = {};
    if (deployment.defaultServiceConfig) options["grpc.service_config"] = deployment.defaultServiceConfig;
    if (tls?.serverName) options["grpc.ssl_target_name_override"] = tls.serverName;
    // No retries inside the channel: FlytePropeller has no gRPC retry policy.
    options["grpc.enable_retries"] = 0;
    this.asyncClient = new AsyncAgentServiceClient(target, creds, options);
    this.syncClient = new SyncAgentServiceClient(target, creds, options);
    this.metadataClient = new AgentMetadataServiceClient(target, creds, options);
  }

  private callOptions(op: RpcOperation): { deadline?: number } {
    const ms = deadlineFor(this.deployment, op);
    return ms > 0 ? { deadline: Date.now() + ms } : {};
  }

  private unary<Req, Res>(
    op: RpcOperation,
    fn: (
      req: Req,
      md: Metadata,
      opts: { deadline?: number },
      cb: (err: ServiceError | null, res: Res) => void,
    ) => unknown,
    req: Req,
  ): Promise<Res> {
    if (!this.slots[op] && !this.onRpc) {
      return new Promise((resolve, reject) => {
        fn(req, new Metadata(), this.callOptions(op), (err, res) =>
          err ? reject(toRpcError(op, err)) : resolve(res),
        );
      });
    }
    return this.observed(op, (done) => fn(req, new Metadata(), this.callOptions(op), done));
  }

  /** Runs one call inside a slot and reports it; the deadline starts once the slot is taken. */
  private async observed<Res>(
    op: RpcOperation,
    start: (done: (err: ServiceError | null, res: Res) => void) => void,
  ): Promise<Res> {
    const release = await this.slots[op]?.acquire();
    const t0 = performance.now();
    try {
      const res = await new Promise<Res>((resolve, reject) =>
        start((err, r) => (err ? reject(toRpcError(op, err)) : resolve(r))),
      );
      this.onRpc?.({ op, durationMs: performance.now() - t0, code: "OK" });
      return res;
    } catch (err) {
      this.onRpc?.({ op, durationMs: performance.now() - t0, code: (err as RpcError).codeName });
      throw err;
    } finally {
      release?.();
    }
  }

  createTask(req: CreateTaskRequest): Promise<CreateTaskResponse> {
    return this.unary("CreateTask", this.asyncClient.createTask.bind(this.asyncClient), req);
  }

  getTask(req: GetTaskRequest): Promise<GetTaskResponse> {
    return this.unary("GetTask", this.asyncClient.getTask.bind(this.asyncClient), req);
  }

  deleteTask(req: DeleteTaskRequest): Promise<void> {
    return this.unary("DeleteTask", this.asyncClient.deleteTask.bind(this.asyncClient), req).then(
      () => undefined,
    );
  }

  listAgents(): Promise<ListAgentsResponse> {
    return this.unary("ListAgents", this.metadataClient.listAgents.bind(this.metadataClient), {});
  }

  /** Sends header then inputs, half-closes, and collects every answer until the stream ends. */
  executeTaskSync(
    header: ExecuteTaskSyncRequest,
    inputs: ExecuteTaskSyncRequest,
    signal?: AbortSignal,
  ): Promise<ExecuteTaskSyncResponse[]> {
    const call = (done: (err: ServiceError | null, res: ExecuteTaskSyncResponse[]) => void) => {
      const stream = this.syncClient.executeTaskSync(new Metadata(), this.callOptions("ExecuteTaskSync"));
      const cancel = () => stream.cancel();
      signal?.addEventListener("abort", cancel, { once: true });
      // A signal may outlive many calls (one per session or process): leave nothing on it.
      const settle = (err: ServiceError | null, res: ExecuteTaskSyncResponse[]) => {
        signal?.removeEventListener("abort", cancel);
        done(err, res);
      };
      const received: ExecuteTaskSyncResponse[] = [];
      stream.on("data", (m: ExecuteTaskSyncResponse) => received.push(m));
      stream.on("error", (err: ServiceError) => settle(err, []));
      stream.on("end", () => settle(null, received));
      stream.write(header);
      stream.write(inputs);
      stream.end();
    };
    if (this.slots.ExecuteTaskSync || this.onRpc) return this.observed("ExecuteTaskSync", call);
    return new Promise((resolve, reject) =>
      call((err, res) => (err ? reject(toRpcError("ExecuteTaskSync", err)) : resolve(res))),
    );
  }

  close(): void {
    this.asyncClient.close();
    this.syncClient.close();
    this.metadataClient.close();
  }
}
