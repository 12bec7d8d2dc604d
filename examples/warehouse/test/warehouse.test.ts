import { existsSync, readFileSync, watch } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { TaskExecutionPhase, type Resource } from "flyte-agent";
import type { ExecutorClock } from "flyte-agent/executor";
import {
  createAgentContext,
  createManualClock,
  createTaskRequest,
  runThroughExecutor,
  startTestServer,
} from "flyte-agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WarehouseAgent, type WarehouseMetadata } from "../src/warehouse-agent.js";
import { defaultJobsDir } from "../src/jobs.js";
import { warehouseDogeCoin } from "../task.js";

const context = () => createAgentContext();

/**
 * Waits until the agent reports what `done` accepts. The job is a real process that records its
 * progress in its directory, so the agent is asked again on every change there (no polling); the
 * deadline only turns a hung job into a failure.
 */
async function until(
  agent: WarehouseAgent,
  meta: WarehouseMetadata,
  done: (r: Resource) => boolean,
  deadlineMs = 20_000,
): Promise<Resource> {
  const changes = watchDir(agent.warehouse.jobDir(meta.job_id));
  const deadline = setTimeout(() => changes.close(), deadlineMs);
  try {
    for (;;) {
      const resource = await agent.get(meta);
      if (done(resource)) return resource;
      if (!(await changes.next())) throw new Error(`still ${resource.phase}: ${resource.message}`);
    }
  } finally {
    clearTimeout(deadline);
    changes.close();
  }
}

/**
 * A clock for the executor whose waits end when a job process records progress (any change under
 * `dir`) instead of after the poll interval: the executor asks again exactly when there is news, and
 * time moves on the clock alone.
 */
function clockOnChangesUnder(dir: string): ExecutorClock & { close(): void } {
  const changes = watchDir(dir, { recursive: true });
  const clock = createManualClock();
  return {
    now: clock.now,
    async sleep(ms) {
      await changes.next();
      clock.advance(ms);
    },
    close: () => changes.close(),
  };
}

/** Changes in a directory, one wake-up per batch: `next()` resolves true on a change, false once closed. */
function watchDir(dir: string, options: { recursive?: boolean } = {}) {
  const watcher = watch(dir, options);
  let changed = false;
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  watcher.on("change", () => {
    changed = true;
    notify();
  });
  return {
    async next(): Promise<boolean> {
      if (!changed && !closed) await new Promise<void>((r) => (wake = r));
      changed = false;
      return !closed;
    },
    close(): void {
      closed = true;
      watcher.close();
      notify();
    },
  };
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
    return createTaskRequest(warehouseDogeCoin, inputs, { outputPrefix: prefix });
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
    await agent.delete(meta, context());
    const stopped = await until(agent, meta, (r) => r.phase !== TaskExecutionPhase.RUNNING);
    expect(stopped.phase).toBe(TaskExecutionPhase.ABORTED);
    // The signal reached the job process: its SIGTERM handler logs, records CANCELLED and exits.
    const log = join(agent.warehouse.jobDir(meta.job_id), "job.log");
    await until(agent, meta, () => readFileSync(log, "utf8").includes("cancelled (SIGTERM)"));
    expect(existsSync(join(prefix, "results", "part-0.parquet"))).toBe(false);
    await agent.delete(meta, context());
    await agent.delete({ job_id: "q-00000000-0000-0000-0000-000000000000" }, context());
    expect((await agent.get(meta)).phase).toBe(TaskExecutionPhase.ABORTED);
  });

  it("reports a failing query as FAILED with the warehouse's message", async () => {
    const meta = await agent.create(
      createTaskRequest(
        warehouseDogeCoin,
        { version: 1 },
        {
          outputPrefix: join(root, "attempt-4"),
          editTemplate: (t) =>
            void (t.sql = { statement: "SELECT * FROM no_such_table WHERE version = $version", dialect: 0 }),
        },
      ),
    );
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
    await using server = await startTestServer({ agents: [agent] });
    // The job is a real process: the executor's waits end on its progress, not on the wall clock.
    const clock = clockOnChangesUnder(join(root, "jobs"));
    const result = await runThroughExecutor(warehouseDogeCoin, { version: 7 }, { server, clock }).finally(
      () => clock.close(),
    );
    expect(result.phase).toBe("SUCCEEDED");
    expect(result.outputs).toEqual({
      results: { uri: join(result.outputPrefix, "results"), format: "parquet" },
    });
  });
});

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
