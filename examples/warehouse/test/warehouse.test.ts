import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  AgentRegistry,
  TaskExecutionPhase,
  silentLogger,
  type AgentContext,
  type Resource,
} from "flyte-agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  CreateTaskResponse,
  GetTaskRequest,
  GetTaskResponse,
} from "../../../src/gen/flyteidl/admin/agent.js";
import { AsyncAgentServiceClient } from "../../../src/gen/flyteidl/service/agent.js";
import { AgentServer } from "../../../src/server/index.js";
import { WarehouseAgent, type WarehouseMetadata } from "../src/warehouse-agent.js";
import { defaultJobsDir } from "../src/jobs.js";
import { warehouseDogeCoin } from "../task.js";

const context = (): AgentContext => ({
  signal: new AbortController().signal,
  logger: silentLogger,
  outputPrefix: "",
});

/** Polls the real job process (it runs outside this test) at a short interval. */
async function until(
  agent: WarehouseAgent,
  meta: WarehouseMetadata,
  done: (r: Resource) => boolean,
): Promise<Resource> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const resource = await agent.get(meta);
    if (done(resource)) return resource;
    if (Date.now() > deadline) throw new Error(`still ${resource.phase}: ${resource.message}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function readParquet(dir: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  const file = join(dir, "part-0.parquet").replaceAll("'", "''");
  const rows = (
    await c.runAndReadAll(`SELECT hash, version FROM read_parquet('${file}')`)
  ).getRowObjectsJson();
  c.closeSync();
  return rows;
}

describe("WarehouseAgent", () => {
  let root: string;
  let agent: WarehouseAgent;

  function createRequest(inputs: { version: number; slow?: boolean }, prefix: string) {
    return {
      ...context(),
      outputPrefix: prefix,
      taskTemplate: warehouseDogeCoin.template(),
      inputs: { slow: false, ...inputs },
      inputLiterals: warehouseDogeCoin.encodeInputs(inputs),
      taskExecutionMetadata: undefined,
    };
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "warehouse-"));
    agent = new WarehouseAgent({ jobsDir: join(root, "jobs"), slowDurationMs: 60_000 });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("runs the query in its own process and returns a readable parquet dataset with a log link", async () => {
    const prefix = join(root, "attempt-1");
    const meta = await agent.create(createRequest({ version: 10 }, prefix));
    expect(meta.job_id).toMatch(/^q-/);
    const done = await until(
      agent,
      meta,
      (r) => r.phase !== TaskExecutionPhase.QUEUED && r.phase !== TaskExecutionPhase.RUNNING,
    );
    expect(done.message).toBe(`10 rows written to ${join(prefix, "results")}`);
    expect(done.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(done.outputs).toEqual({ results: { uri: join(prefix, "results"), format: "parquet" } });
    const rows = await readParquet(join(prefix, "results"));
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.version === 10)).toBe(true);
    const log = await readFile(fileURLToPath(done.logLinks![0]!.uri), "utf8");
    expect(log).toContain("10 rows written");
    expect(log).toContain('parameters: {"version":10}');
  });

  it("answers for a job from another replica and starts one job per attempt however often create is sent", async () => {
    const prefix = join(root, "attempt-2");
    const first = await agent.create(createRequest({ version: 3 }, prefix));
    const again = await agent.create(createRequest({ version: 3 }, prefix));
    expect(again).toEqual(first);
    const replica = new WarehouseAgent({ jobsDir: agent.warehouse.jobsDir });
    const done = await until(
      replica,
      first,
      (r) => r.phase === TaskExecutionPhase.SUCCEEDED || r.phase === TaskExecutionPhase.FAILED,
    );
    expect(done.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect((await readParquet(join(prefix, "results"))).every((r) => r.version === 3)).toBe(true);
  });

  it("stops a running query on delete, and deletes idempotently", async () => {
    const prefix = join(root, "attempt-3");
    const meta = await agent.create(createRequest({ version: 10, slow: true }, prefix));
    await until(agent, meta, (r) => r.phase === TaskExecutionPhase.RUNNING);
    const pid = Number(await readFile(join(agent.warehouse.jobDir(meta.job_id), "pid"), "utf8"));
    await agent.delete(meta, context());
    const stopped = await until(agent, meta, (r) => r.phase !== TaskExecutionPhase.RUNNING);
    expect(stopped.phase).toBe(TaskExecutionPhase.ABORTED);
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(prefix, "results", "part-0.parquet"))).toBe(false);
    await agent.delete(meta, context());
    await agent.delete({ job_id: "q-00000000-0000-0000-0000-000000000000" }, context());
    expect((await agent.get(meta)).phase).toBe(TaskExecutionPhase.ABORTED);
  });

  it("reports a failing query as FAILED with the warehouse's message", async () => {
    const template = warehouseDogeCoin.template();
    template.sql = { statement: "SELECT * FROM no_such_table WHERE version = $version", dialect: 0 };
    const meta = await agent.create({
      ...createRequest({ version: 1 }, join(root, "attempt-4")),
      taskTemplate: template,
    });
    const done = await until(
      agent,
      meta,
      (r) => r.phase === TaskExecutionPhase.FAILED || r.phase === TaskExecutionPhase.SUCCEEDED,
    );
    expect(done.phase).toBe(TaskExecutionPhase.FAILED);
    expect(done.message).toMatch(/no_such_table/);
  });

  it("reports an unknown job as FAILED and refuses a job id that is not one", async () => {
    expect((await agent.get({ job_id: "q-0123456789abcdef" })).phase).toBe(TaskExecutionPhase.FAILED);
    await expect(agent.get({ job_id: "../../etc" })).rejects.toThrow(/not a warehouse job id/);
  });

  it("is served through the real gRPC server", async () => {
    const registry = new AgentRegistry();
    registry.register(agent);
    const server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
    const client = new AsyncAgentServiceClient(server.address, credentials.createInsecure());
    const unary = <Req, Res>(
      fn: (r: Req, m: Metadata, cb: (e: ServiceError | null, v: Res) => void) => unknown,
      req: Req,
    ) =>
      new Promise<Res>((resolve, reject) => fn(req, new Metadata(), (e, v) => (e ? reject(e) : resolve(v))));
    try {
      const prefix = join(root, "attempt-5");
      const created: CreateTaskResponse = await unary(client.createTask.bind(client), {
        template: warehouseDogeCoin.template(),
        inputs: warehouseDogeCoin.encodeInputs({ version: 7 }),
        outputPrefix: prefix,
        taskExecutionMetadata: undefined,
      });
      const getTask = () =>
        unary<GetTaskRequest, GetTaskResponse>(client.getTask.bind(client), {
          taskType: "warehouse_query",
          taskCategory: { name: "warehouse_query", version: 0 },
          resourceMeta: created.resourceMeta,
          outputPrefix: prefix,
        });
      const deadline = Date.now() + 20_000;
      let got = await getTask();
      while (isActive(got.resource?.phase) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        got = await getTask();
      }
      expect(got.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      expect(got.resource?.logLinks[0]?.name).toBe("Warehouse job log");
      expect(warehouseDogeCoin.decodeOutputs(got.resource?.outputs)).toEqual({
        results: { uri: join(prefix, "results"), format: "parquet" },
      });
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });
});

function isActive(phase: number | undefined): boolean {
  return phase === TaskExecutionPhase.QUEUED || phase === TaskExecutionPhase.RUNNING;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("defaultJobsDir", () => {
  it("is per user under the temp dir unless FLYTE_WAREHOUSE_JOBS_DIR or FLYTE_AGENT_HOME says otherwise", () => {
    expect(defaultJobsDir({}, "alice")).toBe(join(tmpdir(), "flyte-agent-alice", "warehouse", "jobs"));
    expect(defaultJobsDir({}, "bob")).not.toBe(defaultJobsDir({}, "alice"));
    expect(defaultJobsDir({ FLYTE_AGENT_HOME: "/srv/fa" }, "alice")).toBe(
      join("/srv/fa", "warehouse", "jobs"),
    );
    expect(defaultJobsDir({ FLYTE_WAREHOUSE_JOBS_DIR: "/data/jobs" }, "alice")).toBe("/data/jobs");
  });
});
