import type { z } from "zod";
import type { AgentContext, TaskRequest } from "./context.js";
import type { Resource } from "./resource.js";
import { jsonResourceMetaCodec, type ResourceMetaCodec } from "./resource-meta.js";
import { type TaskCategory, taskCategory } from "./task-category.js";

/** Options shared by both agent kinds. */
export interface AgentBaseOptions {
  /** The task type this agent serves (`TaskTemplate.type`), e.g. `"bigquery"`. */
  readonly taskTypeName: string;
  /** @default 0 */
  readonly taskTypeVersion?: number;
  /** The name shown by ListAgents; agents sharing a name are listed together. @default the class name */
  readonly name?: string;
  /**
   * Output types, used to turn plain output values in a {@link Resource} into literals. Without it,
   * types are inferred from the values (integral numbers → integer, others → float, objects → Struct).
   */
  readonly outputs?: Readonly<Record<string, z.ZodType>>;
}

/** Options of an async agent. */
export interface AsyncAgentOptions<S extends z.ZodType> extends AgentBaseOptions {
  /** Schema of the resource metadata `create` returns; decoded metadata is validated against it. */
  readonly metadataSchema?: S;
  /** Replaces the default Python-compatible JSON codec. */
  readonly codec?: ResourceMetaCodec<z.output<S>>;
}

/** Parameters of `getMetrics`, from `GetTaskMetricsRequest`. */
export interface MetricsQuery {
  readonly queries: readonly string[];
  readonly startTime?: Date;
  readonly endTime?: Date;
  /** Resolution in milliseconds. */
  readonly stepMs?: number;
}

/** One series of `getMetrics`' answer (`flyteidl.core.ExecutionMetricResult`). */
export interface MetricResult {
  readonly metric: string;
  /** Prometheus-style result data (becomes a Struct). */
  readonly data: Record<string, unknown>;
}

/**
 * One structured log line (Flyte 2's `flyteidl2.logs.dataplane.LogLine`). Flyte 1 callers get its
 * `message` as a plain line.
 */
export interface LogLine {
  readonly message: string;
  /** When the line was written. */
  readonly timestamp?: Date;
  /** Who wrote it: the task's own code or the system running it. @default unknown */
  readonly originator?: "user" | "system";
}

/**
 * A page of log lines from `getLogs`; `token` lets the caller resume. Lines may be plain strings
 * or {@link LogLine}s: Flyte 1 receives every line as a string, Flyte 2 as a structured line.
 */
export interface LogChunk {
  readonly lines: readonly (string | LogLine)[];
  readonly token?: string;
}

/** Parameters of `getLogs`, from `GetTaskLogsRequest`. */
export interface LogsQuery {
  readonly lines: number;
  readonly token: string;
}

/** Marks agent instances across copies of the library. */
export const agentBrand = Symbol.for("flyte-agent.agent");

/**
 * Base class of agents whose job runs elsewhere and is polled: `create` starts it and returns
 * metadata that identifies it, `get` reports on it, `delete` cancels it. The server keeps no state: the
 * metadata travels as `resource_meta` bytes through FlytePropeller.
 *
 * @example
 * ```ts
 * class BigQueryAgent extends AsyncAgentBase<typeof Meta> {
 *   constructor() { super({ taskTypeName: "bigquery", metadataSchema: Meta }); }
 *   async create({ inputs }) { return { jobId: await submit(inputs) }; }
 *   async get(meta) { return { phase: TaskExecutionPhase.RUNNING }; }
 *   async delete(meta) { await cancel(meta.jobId); }
 * }
 * ```
 */
export abstract class AsyncAgentBase<S extends z.ZodType = z.ZodType<unknown>> {
  readonly [agentBrand] = "async" as const;
  readonly isSync = false as const;
  readonly name: string;
  readonly taskCategory: TaskCategory;
  readonly codec: ResourceMetaCodec<z.output<S>>;
  readonly outputTypes: Readonly<Record<string, z.ZodType>> | undefined;

  constructor(options: AsyncAgentOptions<S>) {
    this.name = options.name ?? new.target.name;
    this.taskCategory = taskCategory(options.taskTypeName, options.taskTypeVersion ?? 0);
    this.codec = options.codec ?? jsonResourceMetaCodec(options.metadataSchema);
    this.outputTypes = options.outputs;
  }

  /** Starts the job. Called again for the same attempt after an orchestrator crash: make it safe to repeat. */
  abstract create(request: TaskRequest): Promise<z.output<S>>;
  /** Reports the job's state. Must have no side effects: it is called repeatedly. */
  abstract get(meta: z.output<S>, context: AgentContext): Promise<Resource>;
  /** Cancels the job. Must succeed for unknown or finished jobs: it may be called more than once. */
  abstract delete(meta: z.output<S>, context: AgentContext): Promise<void>;
  /** Optional: metrics of the job (GetTaskMetrics). Unimplemented → UNIMPLEMENTED on the wire. */
  getMetrics?(
    meta: z.output<S>,
    query: MetricsQuery,
    context: AgentContext,
  ): Promise<readonly MetricResult[]>;
  /**
   * Optional: the job's logs, streamed in chunks (GetTaskLogs, a server stream in both protocols).
   * An async generator streams each chunk as it is yielded.
   */
  getLogs?(meta: z.output<S>, query: LogsQuery, context: AgentContext): AsyncIterable<LogChunk>;
}

/**
 * Base class of agents that answer in one call (`ExecuteTaskSync`): `do` returns a terminal
 * {@link Resource} with the outputs.
 */
export abstract class SyncAgentBase {
  readonly [agentBrand] = "sync" as const;
  readonly isSync = true as const;
  readonly name: string;
  readonly taskCategory: TaskCategory;
  readonly outputTypes: Readonly<Record<string, z.ZodType>> | undefined;

  constructor(options: AgentBaseOptions) {
    this.name = options.name ?? new.target.name;
    this.taskCategory = taskCategory(options.taskTypeName, options.taskTypeVersion ?? 0);
    this.outputTypes = options.outputs;
  }

  /** Runs the task and returns its result; the phase should be terminal (SUCCEEDED or FAILED). */
  abstract do(request: TaskRequest): Promise<Resource>;
}

/** Either kind of agent. */
export type Agent = AsyncAgentBase<any> | SyncAgentBase;

/** True for an async agent, even one built on another copy of the library. */
export function isAsyncAgent(agent: unknown): agent is AsyncAgentBase<any> {
  return (
    typeof agent === "object" && agent !== null && (agent as Record<symbol, unknown>)[agentBrand] === "async"
  );
}

/** True for a sync agent, even one built on another copy of the library. */
export function isSyncAgent(agent: unknown): agent is SyncAgentBase {
  return (
    typeof agent === "object" && agent !== null && (agent as Record<symbol, unknown>)[agentBrand] === "sync"
  );
}

/** True for either kind of agent. */
export function isAgent(agent: unknown): agent is Agent {
  return isAsyncAgent(agent) || isSyncAgent(agent);
}
