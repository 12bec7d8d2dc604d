import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { CreateTaskRequest, type TaskExecutionMetadata } from "../gen/flyteidl/admin/agent.js";
import type { LiteralMap } from "../gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { decodeDelimitedSyncRequests, RecordedOp } from "../server/recorder.js";
import { type ExecuteTaskOptions, type ExecutionResult, executeTask } from "./execute-task.js";

/** A request `serve --record` wrote, as read back by {@link readRecordedRequest}. */
export interface RecordedRequest {
  /** `create` (CreateTask) or `do` (ExecuteTaskSync). */
  readonly op: RecordedOp;
  /** The template as FlytePropeller sent it (already rendered). */
  readonly template: TaskTemplate;
  readonly inputs: LiteralMap | undefined;
  /** The output prefix the recorded call named (a bucket path, usually). */
  readonly outputPrefix: string;
  readonly taskExecutionMetadata: TaskExecutionMetadata | undefined;
}

function notARecord(file: string, why: string): FlyteAgentError {
  return new FlyteAgentError(
    ErrorCode.INVALID_CONFIG,
    `${file} is not a request recorded by \`flyte-agent serve --record\` (${why})`,
  );
}

function fromCreate(bytes: Uint8Array): RecordedRequest {
  const r = CreateTaskRequest.decode(bytes);
  if (!r.template) throw new Error("it holds no task template");
  return {
    op: RecordedOp.CREATE,
    template: r.template,
    inputs: r.inputs,
    outputPrefix: r.outputPrefix,
    taskExecutionMetadata: r.taskExecutionMetadata,
  };
}

function fromSync(bytes: Uint8Array): RecordedRequest {
  const messages = decodeDelimitedSyncRequests(bytes);
  const header = messages.find((m) => m.header)?.header;
  if (!header?.template) throw new Error("it holds no ExecuteTaskSync header with a task template");
  return {
    op: RecordedOp.DO,
    template: header.template,
    inputs: messages.find((m) => m.inputs)?.inputs,
    outputPrefix: header.outputPrefix,
    taskExecutionMetadata: header.taskExecutionMetadata,
  };
}

/** The part of a protobuf decoding error worth a sentence. */
function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n", 1)[0] ?? text;
}

/**
 * Reads a request file `serve --record` wrote. Its kind comes from its name (`…-create-…` holds a
 * CreateTaskRequest, `…-do-…` an ExecuteTaskSync stream); a renamed file is tried as both.
 * @throws FlyteAgentError (INVALID_CONFIG) with one sentence when it cannot be read or is no such request.
 */
export async function readRecordedRequest(file: string): Promise<RecordedRequest> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `cannot read the recorded request ${file} (${(err as NodeJS.ErrnoException).code ?? reason(err)})`,
    );
  }
  const name = basename(file);
  const readers = /-do-/.test(name)
    ? [fromSync]
    : /-create-/.test(name)
      ? [fromCreate]
      : [fromCreate, fromSync];
  let last: unknown;
  for (const read of readers) {
    try {
      const request = read(bytes);
      if (!request.template.type) throw new Error("its template has no task type");
      return request;
    } catch (err) {
      last = err;
    }
  }
  throw notARecord(file, reason(last));
}

/** Options of {@link replayRequest}: those of `executeTask`, but the task, inputs and metadata come from the record. */
export interface ReplayOptions extends Omit<
  ExecuteTaskOptions,
  "task" | "inputs" | "replay" | "namespace" | "labels" | "annotations" | "env" | "serviceAccount"
> {
  readonly request: RecordedRequest;
  /**
   * Where the agent writes outputs. The recorded prefix names the cluster's bucket, so it is not
   * used by default. @default a new local prefix under `outputDir` (a temp dir)
   */
  readonly outputPrefix?: string;
  /** @default 0: a replay reproduces one attempt (a retry would carry the same recorded metadata) */
  readonly retries?: number;
}

/**
 * Sends a recorded CreateTask (then GetTask until done) or ExecuteTaskSync request again, as
 * FlytePropeller sent it: the same template (not rendered again), inputs and task execution
 * metadata; only the output prefix is a local one unless {@link ReplayOptions.outputPrefix} is given.
 *
 * @example
 * ```ts
 * const request = await readRecordedRequest("records/20261126T043000123Z-create-bigquery-1a2b3c4d.pb");
 * const result = await replayRequest({ request, endpoint: "127.0.0.1:8000" });
 * ```
 */
export function replayRequest(options: ReplayOptions): Promise<ExecutionResult> {
  const { request, outputPrefix, ...rest } = options;
  return executeTask({
    ...rest,
    retries: options.retries ?? 0,
    task: { template: request.template },
    inputs: request.inputs ?? { literals: {} },
    replay: {
      taskExecutionMetadata: request.taskExecutionMetadata,
      ...(outputPrefix !== undefined ? { outputPrefix } : {}),
    },
  });
}
