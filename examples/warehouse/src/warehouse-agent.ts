import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  AsyncAgentBase,
  ErrorCode,
  FlyteAgentError,
  TaskExecutionPhase,
  flyte,
  localPath,
  uriScheme,
  type AgentContext,
  type Resource,
  type TaskRequest,
} from "flyte-agent";
import { z } from "zod";
import { JobState, Warehouse, defaultJobsDir } from "./jobs.js";

/** The task type served. */
export const WAREHOUSE_TASK_TYPE = "warehouse_query";

/** resource_meta: the job id is all a replica needs to find the job. */
export const WarehouseMetadata = z.object({ job_id: z.string() });
export type WarehouseMetadata = z.output<typeof WarehouseMetadata>;

/** Options of {@link WarehouseAgent}. */
export interface WarehouseAgentOptions {
  /** Where jobs live. @default env FLYTE_WAREHOUSE_JOBS_DIR, else $FLYTE_AGENT_HOME/warehouse/jobs, else a temp dir */
  readonly jobsDir?: string;
  /** How long a query with the `slow` input takes. @default env FLYTE_WAREHOUSE_SLOW_MS, else 30000 */
  readonly slowDurationMs?: number;
}

/**
 * The BigQuery counterpart on an embedded DuckDB: `create` starts the task's SQL (parameters `$name`
 * from the task's inputs) as a job in its own process and returns the job id; `get` reports the job
 * with a link to its log and, on success, a parquet StructuredDataset written under the output
 * prefix; `delete` stops a running job.
 */
export class WarehouseAgent extends AsyncAgentBase<typeof WarehouseMetadata> {
  readonly warehouse: Warehouse;
  readonly #slowDurationMs: number;

  constructor(options: WarehouseAgentOptions = {}) {
    super({
      taskTypeName: WAREHOUSE_TASK_TYPE,
      name: "Warehouse",
      metadataSchema: WarehouseMetadata,
      // GetTask carries no template, so the agent names its output type itself.
      outputs: { results: flyte.structuredDataset() },
    });
    this.warehouse = new Warehouse(options.jobsDir ?? defaultJobsDir());
    const envSlow = Number(process.env.FLYTE_WAREHOUSE_SLOW_MS);
    this.#slowDurationMs =
      options.slowDurationMs ?? (Number.isFinite(envSlow) && envSlow >= 0 ? envSlow : 30_000);
  }

  override async create(request: TaskRequest): Promise<WarehouseMetadata> {
    const sql = request.taskTemplate.sql?.statement;
    if (!sql) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_TASK_TEMPLATE,
        "a warehouse_query task needs a sql statement",
      );
    }
    const { slow, ...rest } = request.inputs;
    const params: Record<string, string | number | boolean | null> = {};
    for (const [name, value] of Object.entries(rest)) params[name] = sqlParam(name, value);
    if (request.outputPrefix && uriScheme(request.outputPrefix) !== "file") {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `the local warehouse writes results to local storage; output prefix ${request.outputPrefix} is not a local path`,
      );
    }
    const jobId = await this.warehouse.submit(
      {
        sql,
        params,
        outputDir: request.outputPrefix ? join(localPath(request.outputPrefix), "results") : "",
        durationMs: slow === true ? this.#slowDurationMs : 0,
      },
      request.outputPrefix || undefined,
    );
    request.logger.info({ job_id: jobId }, "warehouse job submitted");
    return { job_id: jobId };
  }

  override async get(meta: WarehouseMetadata): Promise<Resource> {
    const status = await this.warehouse.status(meta.job_id);
    if (!status) {
      return {
        phase: TaskExecutionPhase.FAILED,
        message: `warehouse job ${meta.job_id} not found in ${this.warehouse.jobsDir}`,
      };
    }
    const logLinks = [
      { name: "Warehouse job log", uri: pathToFileURL(this.warehouse.logFile(meta.job_id)).href },
    ];
    switch (status.state) {
      case JobState.QUEUED:
        return {
          phase: TaskExecutionPhase.QUEUED,
          message: "waiting for the warehouse to start the job",
          logLinks,
        };
      case JobState.RUNNING:
        // No message: FlytePropeller drops it on RUNNING.
        return { phase: TaskExecutionPhase.RUNNING, logLinks };
      case JobState.SUCCEEDED:
        return {
          phase: TaskExecutionPhase.SUCCEEDED,
          message: `${status.rows ?? 0} rows written to ${status.output_uri}`,
          outputs: { results: { uri: status.output_uri ?? "", format: "parquet" } },
          logLinks,
          customInfo: {
            rows: status.rows ?? 0,
            columns: Object.keys(status.preview?.[0] ?? {}).join(", "),
          },
        };
      case JobState.CANCELLED:
        return { phase: TaskExecutionPhase.ABORTED, message: "the job was cancelled", logLinks };
      default:
        return { phase: TaskExecutionPhase.FAILED, message: status.error ?? "the job failed", logLinks };
    }
  }

  override async delete(meta: WarehouseMetadata, context: AgentContext): Promise<void> {
    await this.warehouse.cancel(meta.job_id);
    context.logger.info({ job_id: meta.job_id }, "warehouse job cancelled");
  }
}

function sqlParam(name: string, value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  throw new FlyteAgentError(
    ErrorCode.TYPE_MISMATCH,
    `input "${name}" cannot be a SQL parameter (use strings, numbers, booleans or dates)`,
  );
}
