import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  CreateTaskRequest,
  ExecuteTaskSyncRequest,
  type TaskExecutionMetadata,
} from "../gen/flyteidl/admin/agent.js";
import type { LiteralMap } from "../gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";

// The file format of recorded requests: the server writes it (`serve --record`), the executor reads
// it (`run --replay`). What FlytePropeller 1.16.8 sends, and so what a record holds
// (flyteplugins/go/tasks/plugins/webapi/agent/plugin.go): the container args rendered into the
// template (:121), then one CreateTaskRequest (:175), or an ExecuteTaskSync stream of a header with
// template, output prefix and metadata (:163, :206) followed by one inputs message (:211-215).

/** The operation a record holds: a CreateTask request or an ExecuteTaskSync stream. */
export const RecordedOp = {
  CREATE: "create",
  DO: "do",
} as const;
export type RecordedOp = (typeof RecordedOp)[keyof typeof RecordedOp];

/** A recorded request, as read back by {@link decodeRecordedRequest}. */
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

/** Record files are `<UTC time>-<op>-<task type>-<id>.pb`: sorting by name sorts by age. */
export const recordFilePattern = /^\d{8}T\d{9}Z-(create|do)-.*\.pb$/;

/** The name of a record: `20261126T043000123Z-create-bigquery-1a2b3c4d.pb`. */
export function recordFileName(ms: number, op: RecordedOp, taskType: string, id: string): string {
  const time = new Date(ms).toISOString().replace(/[-:.]/g, "");
  // Anything but letters, digits, `_` and `.` in a task type becomes `_`: the name stays one path part.
  const type = (taskType || "untyped").replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 64);
  return `${time}-${op}-${type}-${id}.pb`;
}

/**
 * An ExecuteTaskSync record: the stream's messages, each preceded by its varint length. A message
 * may be given already encoded (as it came on the wire).
 */
export function encodeRecordedSyncRequests(
  messages: readonly (ExecuteTaskSyncRequest | Uint8Array)[],
): Uint8Array {
  const writer = new BinaryWriter();
  for (const m of messages) {
    writer.bytes(m instanceof Uint8Array ? m : ExecuteTaskSyncRequest.encode(m).finish());
  }
  return writer.finish();
}

/**
 * The messages of an ExecuteTaskSync record.
 * @throws Error when the bytes are not such a sequence.
 */
export function decodeRecordedSyncRequests(bytes: Uint8Array): ExecuteTaskSyncRequest[] {
  const reader = new BinaryReader(bytes);
  const messages: ExecuteTaskSyncRequest[] = [];
  while (reader.pos < reader.len) messages.push(ExecuteTaskSyncRequest.decode(reader.bytes()));
  return messages;
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
  const messages = decodeRecordedSyncRequests(bytes);
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

/**
 * Reads a record. Its kind comes from its file name (`…-create-…` holds a CreateTaskRequest, `…-do-…`
 * an ExecuteTaskSync stream); a renamed file is tried as both.
 * @throws Error saying why when the bytes are no such request.
 */
export function decodeRecordedRequest(bytes: Uint8Array, fileName: string): RecordedRequest {
  const readers = /-do-/.test(fileName)
    ? [fromSync]
    : /-create-/.test(fileName)
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
  throw last instanceof Error ? last : new Error(String(last));
}
