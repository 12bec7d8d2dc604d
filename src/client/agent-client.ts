import { performance } from "node:perf_hooks";
import type { ServiceError } from "@grpc/grpc-js";
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
} from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceService,
  AsyncAgentServiceService,
  SyncAgentServiceService,
} from "@flyte-agent/runtime/internal/gen/flyteidl/service/agent.js";
import {
  type AgentClientOptions,
  type Answer,
  type CallOptions,
  RpcChannel,
  RpcError,
  type Sized,
} from "./channel.js";

export {
  RpcError,
  grpcTarget,
  statusName,
  type AgentClientOptions,
  type Answer,
  type CallOptions,
  type TlsOptions,
} from "./channel.js";

/** What ExecuteTaskSync's one read got: the first message (undefined when the stream ended without one). */
export interface SyncReceipt {
  readonly first: ExecuteTaskSyncResponse | undefined;
  /** Serialized size of the first message (0 without one). */
  readonly bytes: number;
  readonly ms: number;
}

/**
 * The one gRPC client of the agent services (AsyncAgentService, SyncAgentService,
 * AgentMetadataService and grpc.health.v1) used by the executor, conformance and deploy. Every answer
 * comes with its wire size and duration; ExecuteTaskSync reads one message and cancels the stream,
 * as FlytePropeller does. Never retries inside the channel unless the service config asks for it.
 */
export class AgentClient {
  private readonly channel: RpcChannel;

  constructor(
    readonly endpoint: string,
    options: AgentClientOptions = {},
  ) {
    this.channel = new RpcChannel(endpoint, options);
  }

  createTask(req: CreateTaskRequest, opts: CallOptions = {}): Promise<Answer<CreateTaskResponse>> {
    return this.channel.unary(AsyncAgentServiceService.createTask, req, opts);
  }

  getTask(req: GetTaskRequest, opts: CallOptions = {}): Promise<Answer<GetTaskResponse>> {
    return this.channel.unary(AsyncAgentServiceService.getTask, req, opts);
  }

  deleteTask(req: DeleteTaskRequest, opts: CallOptions = {}): Promise<Answer<DeleteTaskResponse>> {
    return this.channel.unary(AsyncAgentServiceService.deleteTask, req, opts);
  }

  listAgents(opts: CallOptions = {}): Promise<Answer<ListAgentsResponse>> {
    return this.channel.unary(AgentMetadataServiceService.listAgents, {}, opts);
  }

  getAgent(name: string, opts: CallOptions = {}): Promise<Answer<GetAgentResponse>> {
    return this.channel.unary(AgentMetadataServiceService.getAgent, { name }, opts);
  }

  /** `grpc.health.v1.Health/Check` for the whole server. */
  health(opts: CallOptions = {}): Promise<Answer<{ status: string }>> {
    return this.channel.health(opts);
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
      const stream = this.channel.bidi(method, opts);
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
    this.channel.close();
  }
}
