// A bare grpc-js agent server whose every answer is scripted, for the differential suite: each
// row makes it give one edge-case answer and checks what the executor and conformance make of it.
import {
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import type {
  Agent,
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  ExecuteTaskSyncRequest,
  ExecuteTaskSyncResponse,
  GetAgentRequest,
  GetAgentResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsResponse,
  Resource,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceService,
  AsyncAgentServiceService,
  SyncAgentServiceService,
} from "../../packages/runtime/src/gen/flyteidl/service/agent.js";

/** A non-OK answer. */
export interface RawError {
  readonly error: status;
  readonly details?: string;
}

const isError = (v: unknown): v is RawError => typeof v === "object" && v !== null && "error" in v;

/** How ExecuteTaskSync answers: these messages, then the stream ends OK, fails, or stays open. */
export interface SyncScript {
  readonly messages: readonly ExecuteTaskSyncResponse[];
  readonly then: "end" | "error" | "open";
}

/** The answers of one server. Every handler gets its call number (1-based, per operation). */
export interface RawScript {
  readonly agents?: readonly Agent[] | RawError;
  readonly getAgent?: (name: string) => Agent | RawError;
  readonly create?: (req: CreateTaskRequest, n: number) => CreateTaskResponse | RawError;
  /** `n` counts GetTask calls per resource_meta. */
  readonly get?: (req: GetTaskRequest, n: number) => Resource | undefined | RawError;
  readonly delete?: (req: DeleteTaskRequest, n: number) => RawError | undefined;
  readonly sync?: (header: ExecuteTaskSyncRequest, n: number) => SyncScript;
}

/** One call the server received. */
export interface RawCall {
  readonly op: "ListAgents" | "GetAgent" | "CreateTask" | "GetTask" | "DeleteTask" | "ExecuteTaskSync";
  readonly request: unknown;
}

export interface RawAgentServer {
  readonly address: string;
  readonly calls: RawCall[];
  count(op: RawCall["op"]): number;
  close(): Promise<void>;
}

function fail(cb: (err: Partial<ServiceError> | null) => void, e: RawError): void {
  cb({ code: e.error, details: e.details ?? status[e.error] });
}

/** Starts a scripted server on 127.0.0.1, port 0. */
export async function startRawAgentServer(script: RawScript): Promise<RawAgentServer> {
  const calls: RawCall[] = [];
  const perOp = new Map<string, number>();
  const next = (key: string) => {
    const n = (perOp.get(key) ?? 0) + 1;
    perOp.set(key, n);
    return n;
  };
  // Like a real server, answer NOT_FOUND for task types nobody listed.
  const listed = (name: string | undefined) =>
    !isError(script.agents) &&
    (script.agents ?? []).some((a) => a.supportedTaskCategories.some((c) => c.name === name));
  const unknown = (name: string | undefined): RawError => ({
    error: status.NOT_FOUND,
    details: `no agent for ${name}`,
  });
  const server = new Server();
  server.addService(AgentMetadataServiceService, {
    listAgents(call: ServerUnaryCall<unknown, ListAgentsResponse>, cb: sendUnaryData<ListAgentsResponse>) {
      calls.push({ op: "ListAgents", request: call.request });
      const agents = script.agents ?? [];
      if (isError(agents)) fail(cb, agents);
      else cb(null, { agents: [...agents] });
    },
    getAgent(call: ServerUnaryCall<GetAgentRequest, GetAgentResponse>, cb: sendUnaryData<GetAgentResponse>) {
      calls.push({ op: "GetAgent", request: call.request });
      const listed = isError(script.agents) ? [] : (script.agents ?? []);
      const answer = script.getAgent?.(call.request.name) ??
        listed.find((a) => a.name === call.request.name) ?? {
          error: status.NOT_FOUND,
          details: `no agent ${call.request.name}`,
        };
      if (isError(answer)) fail(cb, answer);
      else cb(null, { agent: answer });
    },
  });
  server.addService(AsyncAgentServiceService, {
    createTask(
      call: ServerUnaryCall<CreateTaskRequest, CreateTaskResponse>,
      cb: sendUnaryData<CreateTaskResponse>,
    ) {
      calls.push({ op: "CreateTask", request: call.request });
      const type = call.request.template?.type;
      if (!listed(type)) return fail(cb, unknown(type));
      const n = next("create");
      const answer = script.create?.(call.request, n) ?? { resourceMeta: Buffer.from(`job-${n}`) };
      if (isError(answer)) fail(cb, answer);
      else cb(null, answer);
    },
    getTask(call: ServerUnaryCall<GetTaskRequest, GetTaskResponse>, cb: sendUnaryData<GetTaskResponse>) {
      calls.push({ op: "GetTask", request: call.request });
      if (!listed(call.request.taskCategory?.name)) return fail(cb, unknown(call.request.taskCategory?.name));
      const n = next(`get:${call.request.resourceMeta.toString("hex")}`);
      const answer = script.get?.(call.request, n);
      if (isError(answer)) fail(cb, answer);
      else cb(null, { resource: answer });
    },
    deleteTask(call: ServerUnaryCall<DeleteTaskRequest, unknown>, cb: sendUnaryData<unknown>) {
      calls.push({ op: "DeleteTask", request: call.request });
      if (!listed(call.request.taskCategory?.name)) return fail(cb, unknown(call.request.taskCategory?.name));
      const answer = script.delete?.(call.request, next("delete"));
      if (answer) fail(cb, answer);
      else cb(null, {});
    },
    getTaskMetrics(_call: unknown, cb: sendUnaryData<unknown>) {
      fail(cb, { error: status.UNIMPLEMENTED });
    },
    getTaskLogs(call: { emit(e: string, err: unknown): void }) {
      call.emit("error", { code: status.UNIMPLEMENTED, details: "" });
    },
  });
  server.addService(SyncAgentServiceService, {
    executeTaskSync(call: ServerDuplexStream<ExecuteTaskSyncRequest, ExecuteTaskSyncResponse>) {
      const received: ExecuteTaskSyncRequest[] = [];
      let cancelled = false;
      call.on("cancelled", () => (cancelled = true));
      call.on("error", () => {});
      call.on("data", (m: ExecuteTaskSyncRequest) => received.push(m));
      call.on("end", () => {
        calls.push({ op: "ExecuteTaskSync", request: received });
        const plan = script.sync?.(received[0]!, next("sync")) ?? { messages: [], then: "end" as const };
        if (cancelled) return;
        for (const m of plan.messages) call.write(m);
        if (plan.then === "end") call.end();
        else if (plan.then === "error")
          call.emit("error", { code: status.INTERNAL, details: "boom after the header" });
        // "open": the stream stays open until the client cancels it.
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    count: (op) => calls.filter((c) => c.op === op).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
