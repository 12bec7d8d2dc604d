/**
 * Flyte 2's connector services (`flyteidl2.connector`) served in-process over a real socket, next
 * to Flyte 1's agent services on the same port and from the same agents.
 */
import { createHash } from "node:crypto";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  AsyncConnectorServiceClient,
  ConnectorMetadataServiceClient,
} from "../../packages/runtime/src/gen/v2/flyteidl2/connector/service.js";
import type {
  CreateTaskRequest,
  CreateTaskResponse,
  GetTaskLogsResponse,
  GetTaskMetricsResponse,
  GetConnectorResponse,
  GetTaskResponse,
  ListConnectorsResponse,
} from "../../packages/runtime/src/gen/v2/flyteidl2/connector/connector.js";
import { TaskTemplate as V2TaskTemplate } from "../../packages/runtime/src/gen/v2/flyteidl2/core/tasks.js";
import { Literal as V2Literal } from "../../packages/runtime/src/gen/v2/flyteidl2/core/literals.js";
import { LogLineOriginator } from "../../packages/runtime/src/gen/v2/flyteidl2/logs/dataplane/payload.js";
import { TaskTemplate } from "../../packages/runtime/src/gen/flyteidl/core/tasks.js";
import { Literal, type LiteralMap } from "../../packages/runtime/src/gen/flyteidl/core/literals.js";
import type { GetTaskResponse as V1GetTaskResponse } from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
  type AgentContext,
  type LogChunk,
  type Resource,
  type TaskRequest,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { MAX_SYNC_RESULT_BYTES } from "../../packages/runtime/src/server/index.js";
import { defineTask } from "../../packages/runtime/src/task/index.js";
import { clients, failure, memoryLogger, unary as unaryWithDeadline } from "./helpers.js";

const SECRET = "s3cr3t-value-that-must-not-leak";
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

const Meta = z.object({ job_id: z.string(), n: z.number() });

/** Sees what Flyte 2 sends; reports a hash of the secret it received, never the secret. */
class WarehouseAgent extends AsyncAgentBase<typeof Meta> {
  readonly seen: { op: string; connection: unknown; json: string; context?: unknown }[] = [];
  constructor() {
    super({ taskTypeName: "warehouse", metadataSchema: Meta });
  }
  #see(op: string, context: AgentContext) {
    context.logger.info({ context }, `${op} called`);
    this.seen.push({ op, connection: context.connection, json: JSON.stringify(context.connection) });
  }
  async create(request: TaskRequest) {
    this.#see("create", request);
    this.seen.at(-1)!.context = request.inputContext;
    const n = request.inputs.n as number;
    if (n === -1) throw new Error("warehouse is closed");
    return { job_id: `job-${n}`, n };
  }
  async get(meta: z.output<typeof Meta>, context: AgentContext): Promise<Resource> {
    this.#see("get", context);
    if (meta.n === 13)
      return {
        phase: TaskExecutionPhase.FAILED,
        message: "quota exceeded",
        agentError: { code: "QUOTA", kind: "RECOVERABLE" },
      };
    return {
      phase: TaskExecutionPhase.SUCCEEDED,
      outputs: { rows: meta.n * 10, table: `t_${meta.job_id}` },
      logLinks: [{ name: "console", uri: `https://console/${meta.job_id}` }],
      customInfo: { secret_sha: sha(context.connection?.secrets.api_key ?? "") },
    };
  }
  async delete(_meta: z.output<typeof Meta>, context: AgentContext) {
    this.#see("delete", context);
  }
  override async getMetrics() {
    return [{ metric: "rows", data: { value: 42 } }];
  }
  override async *getLogs(meta: z.output<typeof Meta>): AsyncGenerator<LogChunk> {
    yield {
      lines: [
        "plain line",
        { message: "structured", originator: "user", timestamp: new Date(1_700_000_000_500) },
      ],
    };
    yield { lines: [{ message: `last of ${meta.job_id}`, originator: "system" }], token: "next-page" };
  }
}

class UpperAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "upper" });
  }
  async do({ inputs, connection }: TaskRequest): Promise<Resource> {
    const text = String(inputs.text);
    if (text === "huge")
      return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { text: "x".repeat(MAX_SYNC_RESULT_BYTES) } };
    return {
      phase: TaskExecutionPhase.SUCCEEDED,
      outputs: { text: text.toUpperCase(), had_secret: connection?.secrets.api_key === SECRET },
    };
  }
}

const warehouseTask = defineTask({
  name: "warehouse",
  taskType: "warehouse",
  inputs: { n: z.number().int(), label: z.string() },
  outputs: { rows: z.number().int(), table: z.string() },
});
const upperTask = defineTask({
  name: "upper",
  taskType: "upper",
  inputs: { text: z.string() },
  outputs: { text: z.string(), had_secret: z.boolean() },
});

/** A Flyte 1 message as its Flyte 2 counterpart (the same bytes). */
const v2Template = (t: TaskTemplate) => V2TaskTemplate.decode(TaskTemplate.encode(t).finish());
const v2Inputs = (map: LiteralMap) => ({
  literals: Object.entries(map.literals).map(([name, lit]) => ({
    name,
    value: V2Literal.decode(Literal.encode(lit).finish()),
  })),
  context: [{ key: "run", value: "r-1" }],
});
const v1Outputs = (outputs: { literals: { name: string; value: V2Literal | undefined }[] } | undefined) => ({
  literals: Object.fromEntries(
    (outputs?.literals ?? []).map((l) => [l.name, Literal.decode(V2Literal.encode(l.value!).finish())]),
  ),
});

const connection = { taskType: "warehouse", secrets: { api_key: SECRET }, configs: { region: "eu" } };

const unary = <Req, Res>(
  fn: (req: Req, md: Metadata, cb: (e: ServiceError | null, r: Res) => void) => unknown,
  req: Req,
) => new Promise<Res>((resolve, reject) => fn(req, new Metadata(), (e, r) => (e ? reject(e) : resolve(r))));

describe("Flyte 2 connector services next to Flyte 1's, one server, one registry", () => {
  let server: AgentServer;
  let v2: AsyncConnectorServiceClient;
  let meta: ConnectorMetadataServiceClient;
  let v1: ReturnType<typeof clients>;
  const warehouse = new WarehouseAgent();
  const logger = memoryLogger();
  /** Everything logged, serialized as a JSON logger would. */
  const logged = () =>
    JSON.stringify(logger.lines, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

  const create = (req: Partial<CreateTaskRequest>) =>
    unary<CreateTaskRequest, CreateTaskResponse>(v2.createTask.bind(v2), {
      inputs: undefined,
      template: undefined,
      outputPrefix: "/tmp/out",
      taskExecutionMetadata: undefined,
      connection,
      ...req,
    });
  const get = (name: string, resourceMeta: Buffer) =>
    unary<Parameters<typeof v2.getTask>[0], GetTaskResponse>(v2.getTask.bind(v2), {
      resourceMeta,
      taskCategory: { name, version: 0 },
      outputPrefix: "/tmp/out",
      connection,
    });

  beforeAll(async () => {
    const registry = new AgentRegistry();
    registry.register(warehouse);
    registry.register(new UpperAgent());
    server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0, logger });
    v2 = new AsyncConnectorServiceClient(server.address, credentials.createInsecure());
    meta = new ConnectorMetadataServiceClient(server.address, credentials.createInsecure());
    v1 = clients(server.address);
  });
  afterAll(async () => {
    v2.close();
    meta.close();
    v1.close();
    await server.shutdown(1000);
  });

  it("lists every agent as a connector (a sync one too), and describes one by name", async () => {
    const list: ListConnectorsResponse = await unary(meta.listConnectors.bind(meta), {});
    expect([...list.connectors].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "UpperAgent", supportedTaskCategories: [{ name: "upper", version: 0 }] },
      { name: "WarehouseAgent", supportedTaskCategories: [{ name: "warehouse", version: 0 }] },
    ]);
    const one: GetConnectorResponse = await unary(meta.getConnector.bind(meta), { name: "WarehouseAgent" });
    expect(one.connector?.supportedTaskCategories).toEqual([{ name: "warehouse", version: 0 }]);
    const missing = await failure(unary(meta.getConnector.bind(meta), { name: "Nope" }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(missing.details).toContain("Cannot find connector for name: Nope");
  });

  it("runs create → get → delete with inputs, outputs, the connection and the input context", async () => {
    warehouse.seen.length = 0;
    const created = await create({
      template: v2Template(warehouseTask.template()),
      inputs: v2Inputs(warehouseTask.encodeInputs({ n: 4, label: "a" })),
    });
    expect(JSON.parse(created.resourceMeta.toString())).toEqual({ job_id: "job-4", n: 4 });
    const got = await get("warehouse", created.resourceMeta);
    const resource = got.resource!;
    expect(resource.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(resource.outputs?.literals.map((l) => l.name)).toEqual(["rows", "table"]);
    expect(warehouseTask.decodeOutputs(v1Outputs(resource.outputs))).toEqual({ rows: 40, table: "t_job-4" });
    expect(resource.logLinks[0]).toMatchObject({ name: "console", uri: "https://console/job-4" });
    expect(resource.customInfo).toEqual({ secret_sha: sha(SECRET) });
    await unary(v2.deleteTask.bind(v2), {
      resourceMeta: created.resourceMeta,
      taskCategory: { name: "warehouse", version: 0 },
      connection,
    });
    expect(warehouse.seen.map((s) => s.op)).toEqual(["create", "get", "delete"]);
    for (const s of warehouse.seen) {
      expect(s.connection).toMatchObject({
        taskType: "warehouse",
        secrets: { api_key: SECRET },
        configs: { region: "eu" },
      });
      // Serialized (as pino does), the secret value is blanked.
      expect(s.json).not.toContain(SECRET);
      expect(JSON.parse(s.json)).toEqual({
        taskType: "warehouse",
        secrets: { api_key: "***" },
        configs: { region: "eu" },
      });
    }
    expect(warehouse.seen[0]!.context).toEqual({ run: "r-1" });
    // Nothing the server or the agent logged carries the secret, though the agent logged its context.
    expect(logger.lines.some((l) => l.msg === "create called")).toBe(true);
    expect(logged()).toContain('"secrets":{"api_key":"***"}');
    expect(logged()).not.toContain(SECRET);
    expect(created.resourceMeta.toString()).not.toContain(SECRET);
  });

  it("answers a Flyte 1 client from the same agent, with no connection", async () => {
    warehouse.seen.length = 0;
    const created = await unaryWithDeadline(v1.async.createTask.bind(v1.async), {
      inputs: warehouseTask.encodeInputs({ n: 2, label: "b" }),
      template: warehouseTask.template(),
      outputPrefix: "/tmp/out",
      taskExecutionMetadata: undefined,
    });
    const got: V1GetTaskResponse = await unaryWithDeadline(v1.async.getTask.bind(v1.async), {
      taskType: "",
      resourceMeta: created.resourceMeta,
      taskCategory: { name: "warehouse", version: 0 },
      outputPrefix: "",
    });
    expect(warehouseTask.decodeOutputs(got.resource!.outputs)).toEqual({ rows: 20, table: "t_job-2" });
    expect(warehouse.seen.map((s) => s.connection)).toEqual([undefined, undefined]);
  });

  it("maps a recoverable failure to RETRYABLE_FAILED, keeping the error code in the message", async () => {
    const got = await get("warehouse", Buffer.from('{"job_id": "j", "n": 13}'));
    expect(got.resource?.phase).toBe(TaskExecutionPhase.RETRYABLE_FAILED);
    expect(got.resource?.message).toBe("QUOTA: quota exceeded");
  });

  it("streams logs as structured lines (Flyte 1 gets the same lines as plain strings)", async () => {
    const request = {
      resourceMeta: Buffer.from('{"job_id": "j7", "n": 7}'),
      lines: 10n,
      token: "",
      taskCategory: { name: "warehouse", version: 0 },
    };
    const answers: GetTaskLogsResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = v2.getTaskLogs(request);
      call.on("data", (m: GetTaskLogsResponse) => answers.push(m));
      call.on("end", resolve);
      call.on("error", reject);
    });
    expect(answers.map((a) => (a.header ? "header" : "body"))).toEqual(["body", "header", "body"]);
    expect(answers[0]!.body!.lines).toEqual([
      { message: "plain line", timestamp: undefined, originator: LogLineOriginator.UNKNOWN },
      {
        message: "structured",
        timestamp: { seconds: 1_700_000_000n, nanos: 500_000_000 },
        originator: LogLineOriginator.USER,
      },
    ]);
    expect(answers[1]!.header!.token).toBe("next-page");
    expect(answers[2]!.body!.lines[0]).toMatchObject({
      message: "last of j7",
      originator: LogLineOriginator.SYSTEM,
    });

    const v1Lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = v1.async.getTaskLogs({ ...request, taskType: "" });
      call.on("data", (m: { body?: { results: string[] } }) => v1Lines.push(...(m.body?.results ?? [])));
      call.on("end", resolve);
      call.on("error", reject);
    });
    expect(v1Lines).toEqual(["plain line", "structured", "last of j7"]);
  });

  it("answers GetTaskMetrics", async () => {
    const metrics: GetTaskMetricsResponse = await unary(v2.getTaskMetrics.bind(v2), {
      resourceMeta: Buffer.from('{"job_id": "j", "n": 1}'),
      queries: ["rows"],
      startTime: { seconds: 1n, nanos: 0 },
      endTime: undefined,
      step: undefined,
      taskCategory: { name: "warehouse", version: 0 },
    });
    expect(metrics.results).toEqual([{ metric: "rows", data: { value: 42 } }]);
  });

  it("serves a sync agent through CreateTask/GetTask, its result carried in resource_meta", async () => {
    const created = await create({
      template: v2Template(upperTask.template()),
      inputs: v2Inputs(upperTask.encodeInputs({ text: "hello" })),
    });
    expect(created.resourceMeta.toString()).not.toContain(SECRET);
    const got = await get("upper", created.resourceMeta);
    expect(got.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(upperTask.decodeOutputs(v1Outputs(got.resource?.outputs))).toEqual({
      text: "HELLO",
      had_secret: true,
    });
    // Nothing to cancel: the task finished within CreateTask.
    await unary(v2.deleteTask.bind(v2), {
      resourceMeta: created.resourceMeta,
      taskCategory: { name: "upper", version: 0 },
      connection,
    });
  });

  it("refuses a sync result too big for resource_meta, saying the limit", async () => {
    const err = await failure(
      create({
        template: v2Template(upperTask.template()),
        inputs: v2Inputs(upperTask.encodeInputs({ text: "huge" })),
      }),
    );
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toContain(
      `more than the ${MAX_SYNC_RESULT_BYTES} bytes Flyte 2 can carry in resource_meta`,
    );
  });

  it("maps errors as for Flyte 1: unknown task type, bad resource_meta, agent failure, missing template", async () => {
    const unknown = await failure(
      create({ template: v2Template({ ...warehouseTask.template(), type: "nope" }) }),
    );
    expect(unknown.code).toBe(status.NOT_FOUND);
    expect(unknown.details).toContain("Cannot find connector for task category: nope_v0");
    const badAsync = await failure(get("warehouse", Buffer.from("not json")));
    expect(badAsync.code).toBe(status.INVALID_ARGUMENT);
    const badSync = await failure(get("upper", Buffer.from('{"job_id": "x"}')));
    expect(badSync.code).toBe(status.INVALID_ARGUMENT);
    expect(badSync.details).toContain("resource_meta is not a result of the sync agent UpperAgent");
    const failed = await failure(
      create({
        template: v2Template(warehouseTask.template()),
        inputs: v2Inputs(warehouseTask.encodeInputs({ n: -1, label: "" })),
      }),
    );
    expect(failed.code).toBe(status.INTERNAL);
    expect(failed.details).toBe("failed to create warehouse task with error: warehouse is closed");
    const noTemplate = await failure(create({}));
    expect(noTemplate.code).toBe(status.INVALID_ARGUMENT);
    const syncLogs = await failure(
      unary(v2.getTaskMetrics.bind(v2), {
        resourceMeta: Buffer.alloc(0),
        queries: [],
        startTime: undefined,
        endTime: undefined,
        step: undefined,
        taskCategory: { name: "upper", version: 0 },
      }),
    );
    expect(syncLogs.code).toBe(status.UNIMPLEMENTED);
    expect(logged()).not.toContain(SECRET);
  });
});
