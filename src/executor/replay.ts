import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import {
  decodeRecordedRequest,
  type RecordedRequest,
} from "@flyte-agent/runtime/internal/core/recorded-request.js";
import { type ExecuteTaskOptions, type ExecutionResult, executeTask } from "./execute-task.js";

export type { RecordedRequest };

/** The first line of an error, for a one-sentence message. */
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
  try {
    return decodeRecordedRequest(bytes, basename(file));
  } catch (err) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `${file} is not a request recorded by \`flyte-agent serve --record\` (${reason(err)})`,
    );
  }
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
