// A bare grpc-js Flyte 2 connector server (flyteidl2.connector) whose every answer is scripted: the
// Flyte 2 rows of the differential suite, the client tests and the executor's --flyte 2 tests drive it.
import {
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import type {
  Connector,
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  GetConnectorRequest,
  GetConnectorResponse,
  GetTaskLogsRequest,
  GetTaskLogsResponse,
  GetTaskMetricsRequest,
  GetTaskMetricsResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListConnectorsResponse,
  Resource,
} from "../../packages/runtime/src/gen/v2/flyteidl2/connector/connector.js";
import {
  AsyncConnectorServiceService,
  ConnectorMetadataServiceService,
} from "../../packages/runtime/src/gen/v2/flyteidl2/connector/service.js";

/** A non-OK answer. */
export interface RawError {
  readonly error: status;
  readonly details?: string;
}

const isError = (v: unknown): v is RawError => typeof v === "object" && v !== null && "error" in v;

/** The answers of one server. Every handler gets its call number (1-based, per operation). */
export interface RawConnectorScript {
  readonly connectors?: readonly Connector[] | RawError;
  readonly create?: (req: CreateTaskRequest, n: number) => CreateTaskResponse | RawError;
  /** `n` counts GetTask calls per resource_meta. */
  readonly get?: (req: GetTaskRequest, n: number) => Resource | undefined | RawError;
  readonly delete?: (req: DeleteTaskRequest, n: number) => RawError | undefined;
  readonly metrics?: (req: GetTaskMetricsRequest) => GetTaskMetricsResponse | RawError;
  /** The messages of a GetTaskLogs stream, then an optional error. */
  readonly logs?: (req: GetTaskLogsRequest) => {
    readonly messages: readonly GetTaskLogsResponse[];
    readonly error?: RawError;
  };
}

/** One call the server received. */
export interface RawConnectorCall {
  readonly op:
    | "ListConnectors"
    | "GetConnector"
    | "CreateTask"
    | "GetTask"
    | "DeleteTask"
    | "GetTaskMetrics"
    | "GetTaskLogs";
  readonly request: unknown;
}

export interface RawConnectorServer {
  readonly address: string;
  readonly calls: RawConnectorCall[];
  count(op: RawConnectorCall["op"]): number;
  close(): Promise<void>;
}

function fail(cb: (err: Partial<ServiceError> | null) => void, e: RawError): void {
  cb({ code: e.error, details: e.details ?? status[e.error] });
}

/** A connector serving these task types (version 0). */
export function connectorFor(name: string, ...taskTypes: string[]): Connector {
  return { name, supportedTaskCategories: taskTypes.map((t) => ({ name: t, version: 0 })) };
}

/** Starts a scripted Flyte 2 connector server on 127.0.0.1, port 0. */
export async function startRawConnectorServer(script: RawConnectorScript): Promise<RawConnectorServer> {
  const calls: RawConnectorCall[] = [];
  const perOp = new Map<string, number>();
  const next = (key: string) => {
    const n = (perOp.get(key) ?? 0) + 1;
    perOp.set(key, n);
    return n;
  };
  const listedConnectors = () => (isError(script.connectors) ? [] : (script.connectors ?? []));
  // Like a real server, answer NOT_FOUND for task types nobody listed.
  const listed = (name: string | undefined) =>
    listedConnectors().some((a) => a.supportedTaskCategories.some((c) => c.name === name));
  const unknown = (name: string | undefined): RawError => ({
    error: status.NOT_FOUND,
    details: `no connector for ${name}`,
  });
  const server = new Server();
  server.addService(ConnectorMetadataServiceService, {
    listConnectors(
      call: ServerUnaryCall<unknown, ListConnectorsResponse>,
      cb: sendUnaryData<ListConnectorsResponse>,
    ) {
      calls.push({ op: "ListConnectors", request: call.request });
      const connectors = script.connectors ?? [];
      if (isError(connectors)) fail(cb, connectors);
      else cb(null, { connectors: [...connectors] });
    },
    getConnector(
      call: ServerUnaryCall<GetConnectorRequest, GetConnectorResponse>,
      cb: sendUnaryData<GetConnectorResponse>,
    ) {
      calls.push({ op: "GetConnector", request: call.request });
      const found = listedConnectors().find((a) => a.name === call.request.name);
      if (!found) fail(cb, { error: status.NOT_FOUND, details: `no connector ${call.request.name}` });
      else cb(null, { connector: found });
    },
  });
  server.addService(AsyncConnectorServiceService, {
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
    getTaskMetrics(
      call: ServerUnaryCall<GetTaskMetricsRequest, GetTaskMetricsResponse>,
      cb: sendUnaryData<GetTaskMetricsResponse>,
    ) {
      calls.push({ op: "GetTaskMetrics", request: call.request });
      const answer = script.metrics?.(call.request) ?? { error: status.UNIMPLEMENTED };
      if (isError(answer)) fail(cb, answer);
      else cb(null, answer);
    },
    getTaskLogs(call: ServerWritableStream<GetTaskLogsRequest, GetTaskLogsResponse>) {
      calls.push({ op: "GetTaskLogs", request: call.request });
      const plan = script.logs?.(call.request) ?? { messages: [], error: { error: status.UNIMPLEMENTED } };
      for (const m of plan.messages) call.write(m);
      if (plan.error) call.emit("error", { code: plan.error.error, details: plan.error.details ?? "" });
      else call.end();
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
