import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** States a warehouse job goes through, as recorded in its `state.json`. */
export const JobState = {
  QUEUED: "QUEUED",
  RUNNING: "RUNNING",
  SUCCEEDED: "SUCCEEDED",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

/** What a job's `state.json` holds. */
export interface JobStatus {
  readonly state: JobState;
  readonly pid?: number;
  readonly started_at?: string;
  readonly finished_at?: string;
  readonly rows?: number;
  readonly output_uri?: string;
  readonly preview?: readonly Record<string, unknown>[];
  readonly error?: string;
}

/** What a job runs. */
export interface JobSpec {
  /** The SQL statement; `$name` placeholders take the parameter of that name. */
  readonly sql: string;
  readonly params: Readonly<Record<string, string | number | boolean | null>>;
  /** Directory the parquet result goes to. */
  readonly outputDir: string;
  /** Extra time the query takes (the `slow` mode), in milliseconds. */
  readonly durationMs: number;
}

const JOB_ID = /^q-[0-9a-f-]{8,64}$/;
const runnerScript = fileURLToPath(new URL("./job-runner.ts", import.meta.url));
// The job process runs TypeScript through tsx's loader, resolved from here so any cwd works.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * Where jobs live: `$FLYTE_WAREHOUSE_JOBS_DIR`, else `$FLYTE_AGENT_HOME/warehouse/jobs`, else
 * `<os tmpdir>/flyte-agent-<user>/warehouse/jobs` — per user, since a directory another Unix user
 * created first in a shared /tmp is not writable. Every replica of the agent must see the same
 * directory.
 */
export function defaultJobsDir(env: NodeJS.ProcessEnv = process.env, user = currentUser()): string {
  if (env.FLYTE_WAREHOUSE_JOBS_DIR) return env.FLYTE_WAREHOUSE_JOBS_DIR;
  return join(env.FLYTE_AGENT_HOME ?? join(tmpdir(), `flyte-agent-${user}`), "warehouse", "jobs");
}

/** The user name for per-user paths (the uid when the system has no name for it). */
function currentUser(): string {
  try {
    return userInfo().username.replace(/[^\w.-]/g, "_") || String(process.getuid?.() ?? "user");
  } catch {
    return String(process.getuid?.() ?? "user");
  }
}

/**
 * The local warehouse service: jobs are processes of their own (started detached, so they survive
 * the agent server), and everything about a job is in its directory. Nothing is kept in memory.
 */
export class Warehouse {
  constructor(readonly jobsDir: string) {}

  /** The directory of a job. @throws Error for an id that is not a warehouse job id. */
  jobDir(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new Error(`not a warehouse job id: ${JSON.stringify(jobId)}`);
    return join(this.jobsDir, jobId);
  }

  /** The log file of a job. */
  logFile(jobId: string): string {
    return join(this.jobDir(jobId), "job.log");
  }

  /**
   * Starts a job and returns its id. With an `idempotencyKey` (the attempt's output prefix), a
   * second submit for the same key returns the first job instead of starting another.
   */
  async submit(spec: JobSpec, idempotencyKey?: string): Promise<string> {
    const jobId = idempotencyKey
      ? `q-${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 24)}`
      : `q-${randomUUID()}`;
    const dir = this.jobDir(jobId);
    await mkdir(this.jobsDir, { recursive: true });
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return jobId;
      throw err;
    }
    const job = {
      id: jobId,
      sql: spec.sql,
      params: spec.params,
      output_dir: spec.outputDir,
      duration_ms: spec.durationMs,
      created_at: new Date().toISOString(),
    };
    await writeFile(join(dir, "job.json"), JSON.stringify(job, null, 2));
    await writeFile(join(dir, "job.log"), "");
    await writeJson(join(dir, "state.json"), { state: JobState.QUEUED });
    const child = spawn(process.execPath, ["--import", tsxLoader, runnerScript, dir], {
      detached: true,
      stdio: "ignore",
      cwd: dir,
    });
    if (child.pid === undefined) {
      await writeJson(join(dir, "state.json"), {
        state: JobState.FAILED,
        error: "could not start the job process",
      });
    } else {
      await writeFile(join(dir, "pid"), String(child.pid));
    }
    child.unref();
    return jobId;
  }

  /**
   * The job's status, or undefined for an unknown job. A job recorded as queued or running whose
   * process is gone (killed, or the machine restarted) is reported FAILED.
   */
  async status(jobId: string): Promise<JobStatus | undefined> {
    const dir = this.jobDir(jobId);
    const status = await readJson<JobStatus>(join(dir, "state.json"));
    if (!status) return undefined;
    if (status.state === JobState.QUEUED || status.state === JobState.RUNNING) {
      const pid = status.pid ?? (await this.#pid(jobId));
      if (pid !== undefined && !isAlive(pid)) {
        // The process may have finished between the two reads.
        const again = await readJson<JobStatus>(join(dir, "state.json"));
        if (again && again.state !== status.state) return again;
        return { ...status, state: JobState.FAILED, error: "the job process exited without finishing" };
      }
    }
    return status;
  }

  /** Stops a queued or running job. Does nothing for a finished or unknown job. */
  async cancel(jobId: string): Promise<void> {
    const dir = this.jobDir(jobId);
    const status = await readJson<JobStatus>(join(dir, "state.json"));
    if (!status || (status.state !== JobState.QUEUED && status.state !== JobState.RUNNING)) return;
    const pid = await this.#pid(jobId);
    if (pid !== undefined) {
      try {
        // The runner leads its own process group (it was started detached): stop all of it.
        process.kill(-pid, "SIGTERM");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
      }
    }
    await writeJson(join(dir, "state.json"), {
      ...status,
      state: JobState.CANCELLED,
      finished_at: new Date().toISOString(),
    });
  }

  async #pid(jobId: string): Promise<number | undefined> {
    try {
      const pid = Number((await readFile(join(this.jobDir(jobId), "pid"), "utf8")).trim());
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2));
  await rename(tmp, path);
}
