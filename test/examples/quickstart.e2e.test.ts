import { existsSync, watch } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readmeQuickstart } from "../support/readme.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin", "flyte-agent.js");

// Child npm processes must not inherit this run's npm settings (npm test sets npm_* variables).
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

describe("the README quickstart, through the real CLI binary", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "quickstart-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the README's own command (npx, resolved to this checkout) to SUCCEEDED", async () => {
    const command = await readmeQuickstart();
    const [install, run] = command.split(" && ");
    expect(install).toBe("npm ci");
    expect(run).toMatch(/^npx flyte-agent run examples\/warehouse\/task\.ts/);
    const result = await execa("sh", ["-c", run!], {
      cwd: repo,
      env: { ...cleanEnv, FLYTE_WAREHOUSE_JOBS_DIR: join(dir, "jobs-readme"), NO_COLOR: "1" },
      extendEnv: false,
      reject: false,
    });
    // Only the agent's own log lines (JSON, not a terminal) on stderr: no warning, no error.
    expect(result.stderr).not.toMatch(/"level":"(warn|error|fatal)"|^error:/m);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/SUCCEEDED/);
  });

  it("runs the warehouse example to SUCCEEDED with a log link and a readable parquet result", async () => {
    const outputDir = join(dir, "run");
    const result = await execa(
      process.execPath,
      [bin, "run", "examples/warehouse/task.ts", "--version", "10", "--output-dir", outputDir],
      { cwd: repo, env: { FLYTE_WAREHOUSE_JOBS_DIR: join(dir, "jobs"), NO_COLOR: "1" }, reject: false },
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/SUCCEEDED/);
    const log = /Warehouse job log (file:\S+)/.exec(result.stdout)?.[1];
    expect(log).toBeDefined();
    expect(await readFile(fileURLToPath(log!), "utf8")).toContain("10 rows written");
    const resultsDir = join(outputDir, "attempt-0", "results");
    expect(result.stdout).toContain(resultsDir);
    expect(await readdir(resultsDir)).toEqual(["part-0.parquet"]);
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    const rows = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, min(version) AS lo, max(version) AS hi FROM read_parquet('${join(resultsDir, "part-0.parquet")}')`,
    );
    expect(rows.getRowObjectsJson()).toEqual([{ n: 10, lo: 10, hi: 10 }]);
    connection.closeSync();
  });

  it("stops the slow query's job process when the run is interrupted", async () => {
    const jobsDir = join(dir, "jobs-slow");
    const child = execa(
      process.execPath,
      [bin, "run", "examples/warehouse/task.ts", "--version", "2", "--slow", "--poll-interval", "50ms"],
      {
        cwd: repo,
        env: { FLYTE_WAREHOUSE_JOBS_DIR: jobsDir, FLYTE_WAREHOUSE_SLOW_MS: "60000", NO_COLOR: "1" },
        reject: false,
      },
    );
    let seen = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (/RUNNING/.test(seen)) resolve();
      });
      void child.then(() => reject(new Error(`the run ended before RUNNING:\n${seen}`)));
    });
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    const [jobId] = await readdir(jobsDir);
    const state = JSON.parse(await readFile(join(jobsDir, jobId!, "state.json"), "utf8")) as {
      state: string;
    };
    expect(state.state).toBe("CANCELLED");
    // The DeleteTask reached the job process: its SIGTERM handler logged before it exited.
    await waitFor(join(jobsDir, jobId!), "job.log", (text) => text.includes("cancelled (SIGTERM)"));
    expect(existsSync(join(jobsDir, jobId!, "results"))).toBe(false);
  });
});

/** Resolves once `file` in `dir` satisfies `done`, re-reading it on each change in `dir` (no polling). */
async function waitFor(dir: string, file: string, done: (text: string) => boolean): Promise<void> {
  const read = () => readFile(join(dir, file), "utf8").catch(() => "");
  const watcher = watch(dir);
  try {
    const changed = new Promise<void>((resolve) => {
      watcher.on("change", () => void read().then((t) => done(t) && resolve()));
    });
    if (done(await read())) return;
    await changed;
  } finally {
    watcher.close();
  }
}
