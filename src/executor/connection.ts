import { performance } from "node:perf_hooks";
import {
  AgentClient,
  type Answer,
  type RpcError,
  type SyncReceipt,
  type TlsOptions,
} from "../client/agent-client.js";
import type {
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  ExecuteTaskSyncRequest,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsResponse,
} from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import {
  type AgentDeployment,
  deadlineFor,
  type RpcOperation,
} from "@flyte-agent/runtime/internal/propeller/config.js";

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

/**
 * The agent services of one deployment, with FlytePropeller's deadline for each call
 * ({@link deadlineFor}). The channel is shared by every deployment of the same endpoint, as
 * Propeller keys its connections by endpoint (the first deployment's TLS setting wins).
 */
export class AgentConnection {
  constructor(
    readonly deployment: AgentDeployment,
    private readonly client: AgentClient,
    private readonly options: AgentConnectionOptions = {},
  ) {}

  /** Opens a channel for `deployment` (TLS unless it is `insecure`). */
  static dial(deployment: AgentDeployment, tls?: TlsOptions): AgentClient {
    return new AgentClient(deployment.endpoint, {
      tls: deployment.insecure ? false : (tls ?? true),
      ...(deployment.defaultServiceConfig ? { serviceConfig: deployment.defaultServiceConfig } : {}),
    });
  }

  private call<T>(op: RpcOperation, run: (deadlineMs: number) => Promise<T>): Promise<T> {
    return observedCall(this.deployment, this.options, op, run);
  }

  createTask(req: CreateTaskRequest): Promise<Answer<CreateTaskResponse>> {
    return this.call("CreateTask", (deadlineMs) => this.client.createTask(req, { deadlineMs }));
  }

  getTask(req: GetTaskRequest): Promise<Answer<GetTaskResponse>> {
    return this.call("GetTask", (deadlineMs) => this.client.getTask(req, { deadlineMs }));
  }

  async deleteTask(req: DeleteTaskRequest): Promise<void> {
    await this.call("DeleteTask", (deadlineMs) => this.client.deleteTask(req, { deadlineMs }));
  }

  listAgents(): Promise<Answer<ListAgentsResponse>> {
    return this.call("ListAgents", (deadlineMs) => this.client.listAgents({ deadlineMs }));
  }

  /** Header, inputs, half-close, one message, cancel: see {@link AgentClient.executeTaskSync}. */
  executeTaskSync(
    header: ExecuteTaskSyncRequest,
    inputs: ExecuteTaskSyncRequest,
    signal?: AbortSignal,
  ): Promise<SyncReceipt> {
    return this.call("ExecuteTaskSync", (deadlineMs) =>
      this.client.executeTaskSync(header, inputs, { deadlineMs, ...(signal ? { signal } : {}) }),
    );
  }
}

/**
 * One call of a connection (Flyte 1's or Flyte 2's): waits for a slot of the operation's rate limit,
 * runs it with the deployment's deadline for the operation, and reports its time and status.
 */
export async function observedCall<T>(
  deployment: AgentDeployment,
  options: AgentConnectionOptions,
  op: RpcOperation,
  run: (deadlineMs: number) => Promise<T>,
): Promise<T> {
  const release = await options.slots?.[op]?.acquire();
  const t0 = performance.now();
  try {
    const res = await run(deadlineFor(deployment, op));
    options.onRpc?.({ op, durationMs: performance.now() - t0, code: "OK" });
    return res;
  } catch (err) {
    options.onRpc?.({
      op,
      durationMs: performance.now() - t0,
      code: (err as RpcError).codeName ?? "UNKNOWN",
    });
    throw err;
  } finally {
    release?.();
  }
}
