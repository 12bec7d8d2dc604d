import { constants } from "node:fs";
import { access, mkdir, readdir, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { CreateTaskRequest, ExecuteTaskSyncRequest } from "../gen/flyteidl/admin/agent.js";
import {
  encodeRecordedSyncRequests,
  RecordedOp,
  recordFileName,
  recordFilePattern,
} from "../core/recorded-request.js";
import type { Logger } from "../core/context.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";

/** The value that replaces every redacted value in a recorded request (keys are kept). */
export const REDACTED = "[redacted]";

/**
 * Keys whose values are redacted wherever they appear in a recorded request's `custom`, `config`,
 * labels and annotations (environment variable values are always redacted).
 */
export const SECRET_KEY_PATTERN = /secret|token|password|passwd|api[_-]?key|credential|auth/i;

/** Options of {@link RequestRecorder.create}. */
export interface RequestRecorderOptions {
  /** The directory records are written to; created when missing. */
  readonly dir: string;
  /** Records kept; the oldest are deleted beyond it. @default 1000 */
  readonly maxFiles?: number;
  /** Total bytes of records kept; the oldest are deleted beyond it. @default 256 MiB */
  readonly maxBytes?: number;
  /** Requests waiting to be written; more are dropped (with a warning) rather than queued. @default 64 */
  readonly maxQueued?: number;
  readonly logger?: Logger;
  /** The time that names a record. @default Date.now */
  readonly now?: () => number;
}

interface Kept {
  readonly name: string;
  readonly bytes: number;
}

/** A request message and, when its decoder was wrapped by the recorder, its bytes as received. */
interface Received<M> {
  readonly message: M;
  readonly wire: Uint8Array | undefined;
}

type Pending =
  | { readonly op: typeof RecordedOp.CREATE; readonly request: Received<CreateTaskRequest> }
  | { readonly op: typeof RecordedOp.DO; readonly messages: readonly Received<ExecuteTaskSyncRequest>[] };

/**
 * Writes the CreateTask and ExecuteTaskSync requests a server receives as files, for `run --replay`.
 *
 * A CreateTask record is the `flyteidl.admin.CreateTaskRequest` message; an ExecuteTaskSync record is
 * the stream's `flyteidl.admin.ExecuteTaskSyncRequest` messages (header, then inputs), each preceded
 * by its varint length. Before writing, environment variable values and the values of secret-looking
 * keys ({@link SECRET_KEY_PATTERN}) are replaced by {@link REDACTED}. When the server's decoders were
 * wrapped with {@link RequestRecorder.keepingWireBytes} (the server does this), a message with nothing
 * to redact is written exactly as received, and a redacted one is read from the received bytes.
 *
 * Only Flyte 1 requests are recorded: a Flyte 2 request carries resolved secret values in its
 * `connection`, and `run --replay` replays Flyte 1 requests ({@link RequestRecorder.skipFlyte2}).
 *
 * Recording never blocks or fails a call: {@link RequestRecorder.recordCreateTask} and
 * {@link RequestRecorder.recordExecuteTaskSync} only queue the request; it is encoded and written later, off
 * the call's path. A full queue or a failed write drops the record with one warning log line.
 */
export class RequestRecorder {
  readonly #queue: Pending[] = [];
  readonly #kept: Kept[];
  #keptBytes: number;
  #draining: Promise<void> | undefined;
  #dropped = 0;
  #written = 0;
  #lastMs = 0;
  #skippedFlyte2 = false;
  // Request messages and the bytes they were decoded from; kept only as long as the message lives.
  readonly #wire = new WeakMap<object, Uint8Array>();

  private constructor(
    /** The absolute record directory. */
    readonly dir: string,
    private readonly maxFiles: number,
    private readonly maxBytes: number,
    private readonly maxQueued: number,
    private readonly logger: Logger | undefined,
    private readonly now: () => number,
    kept: Kept[],
  ) {
    this.#kept = kept;
    this.#keptBytes = kept.reduce((n, k) => n + k.bytes, 0);
  }

  /**
   * Checks that `dir` can be written (creating it), and counts the records already there toward the
   * bounds.
   * @throws FlyteAgentError (INVALID_CONFIG) with one sentence when it cannot be written or a bound is invalid.
   */
  static async create(options: RequestRecorderOptions): Promise<RequestRecorder> {
    const dir = resolve(options.dir);
    const maxFiles = options.maxFiles ?? 1000;
    const maxBytes = options.maxBytes ?? 256 * 1024 ** 2;
    const maxQueued = options.maxQueued ?? 64;
    for (const [name, value] of Object.entries({ maxFiles, maxBytes, maxQueued })) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new FlyteAgentError(
          ErrorCode.INVALID_CONFIG,
          `${name} must be a positive integer, got ${value}`,
        );
    }
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
      // access() says yes to root on a read-only mount: only a real write tells.
      const probe = join(dir, `.write-check-${randomBytes(4).toString("hex")}`);
      await writeFile(probe, "");
      await unlink(probe);
    } catch (err) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `cannot write request records to ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)}): choose a writable --record directory`,
      );
    }
    const kept: Kept[] = [];
    for (const name of (await readdir(dir)).filter((n) => recordFilePattern.test(n)).sort()) {
      const size = await stat(join(dir, name)).then(
        (s) => s.size,
        () => undefined,
      );
      if (size !== undefined) kept.push({ name, bytes: size });
    }
    const recorder = new RequestRecorder(
      dir,
      maxFiles,
      maxBytes,
      maxQueued,
      options.logger,
      options.now ?? Date.now,
      kept,
    );
    await recorder.#evict();
    return recorder;
  }

  /**
   * Wraps a request decoder so that the recorder keeps (by reference, no copy) the bytes each message
   * was decoded from. A record is then read from those bytes, not from the message an agent was given
   * (and may have changed), and a request with nothing to redact is written exactly as received,
   * fields this flyteidl version does not know included.
   */
  keepingWireBytes<M extends object>(decode: (bytes: Buffer) => M): (bytes: Buffer) => M {
    return (bytes) => {
      const message = decode(bytes);
      this.#wire.set(message, bytes);
      return message;
    };
  }

  /** Queues a CreateTask request for recording. Never throws. */
  recordCreateTask(request: CreateTaskRequest): void {
    this.#enqueue({ op: RecordedOp.CREATE, request: { message: request, wire: this.#wire.get(request) } });
  }

  /** Queues the messages of an ExecuteTaskSync call (header, inputs) for recording. Never throws. */
  recordExecuteTaskSync(messages: readonly ExecuteTaskSyncRequest[]): void {
    this.#enqueue({
      op: RecordedOp.DO,
      messages: messages.map((message) => ({ message, wire: this.#wire.get(message) })),
    });
  }

  /**
   * Says, once per recorder, that a Flyte 2 CreateTask was served but not recorded: a record is a
   * Flyte 1 request that `run --replay` replays, and a Flyte 2 request carries resolved secret
   * values in `connection`, which must not reach a file. Never throws.
   */
  skipFlyte2(): void {
    if (this.#skippedFlyte2) return;
    this.#skippedFlyte2 = true;
    this.logger?.warn(
      { dir: this.dir },
      "--record keeps Flyte 1 requests only: Flyte 2 (flyteidl2.connector) calls are served but not recorded",
    );
  }

  /** Resolves once every queued request has been written or dropped. */
  async flushed(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Record files currently kept, oldest first. */
  get files(): readonly string[] {
    return this.#kept.map((k) => k.name);
  }

  /** Requests written, and dropped (full queue or failed write), since the recorder opened. */
  get counts(): { readonly written: number; readonly dropped: number } {
    return { written: this.#written, dropped: this.#dropped };
  }

  #enqueue(pending: Pending): void {
    if (this.#queue.length >= this.maxQueued) {
      this.#drop("the record queue is full", undefined);
      return;
    }
    this.#queue.push(pending);
    // setImmediate: the encoding and the write start after the call's own work has been scheduled.
    this.#draining ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        try {
          await this.#write(next);
          this.#written++;
        } catch (err) {
          this.#drop("the record could not be written", err);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #write(pending: Pending): Promise<void> {
    let bytes: Uint8Array;
    let taskType = "";
    if (pending.op === RecordedOp.CREATE) {
      const { message, wire } = pending.request;
      const received = wire ? CreateTaskRequest.decode(wire) : message;
      taskType = received.template?.type ?? "";
      bytes = redacted(received, wire, redactCreateTaskRequest, (m) => CreateTaskRequest.encode(m));
    } else {
      const parts = pending.messages.map(({ message, wire }) => {
        const received = wire ? ExecuteTaskSyncRequest.decode(wire) : message;
        taskType ||= received.header?.template?.type ?? "";
        return redacted(received, wire, redactExecuteTaskSyncRequest, (m) =>
          ExecuteTaskSyncRequest.encode(m),
        );
      });
      bytes = encodeRecordedSyncRequests(parts);
    }
    // Names sort by age: two records of one millisecond get consecutive times, not a random order.
    this.#lastMs = Math.max(this.now(), this.#lastMs + 1);
    const name = recordFileName(this.#lastMs, pending.op, taskType, randomBytes(4).toString("hex"));
    await writeFile(join(this.dir, name), bytes, { flag: "wx" });
    this.#kept.push({ name, bytes: bytes.length });
    this.#keptBytes += bytes.length;
    await this.#evict();
  }

  /** Deletes the oldest records while a bound is exceeded (the newest record is always kept). */
  async #evict(): Promise<void> {
    while (this.#kept.length > 1 && (this.#kept.length > this.maxFiles || this.#keptBytes > this.maxBytes)) {
      const oldest = this.#kept.shift()!;
      this.#keptBytes -= oldest.bytes;
      await rm(join(this.dir, oldest.name), { force: true });
    }
  }

  #drop(reason: string, err: unknown): void {
    this.#dropped++;
    const why =
      err === undefined
        ? undefined
        : ((err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : "unknown error"));
    this.logger?.warn(
      { record_dir: this.dir, dropped_total: this.#dropped, ...(why ? { reason: why } : {}) },
      `request not recorded: ${reason}`,
    );
  }
}

/** The bytes to record for a message: as received when redaction changes nothing, else re-encoded. */
function redacted<M>(
  received: M,
  wire: Uint8Array | undefined,
  redact: (message: M) => M,
  encode: (message: M) => { finish(): Uint8Array },
): Uint8Array {
  const encoded = encode(redact(received)).finish();
  if (wire && Buffer.from(encoded).equals(Buffer.from(encode(received).finish()))) return wire;
  return encoded;
}

function redactMap(map: { [key: string]: string }, all: boolean): { [key: string]: string } {
  return Object.fromEntries(
    Object.entries(map).map(([k, v]) => [k, all || SECRET_KEY_PATTERN.test(k) ? REDACTED : v]),
  );
}

/**
 * A `google.protobuf.Struct` value (a plain JSON value here) with secret-looking keys' values redacted,
 * and the `value` of every `{name, value}` item of an `env` list (a pod spec's container env).
 */
function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEY_PATTERN.test(k)
          ? REDACTED
          : k === "env" && Array.isArray(v)
            ? v.map(redactEnvItem)
            : redactJson(v),
      ]),
    );
  }
  return value;
}

function redactEnvItem(item: unknown): unknown {
  if (item === null || typeof item !== "object" || !("value" in item)) return redactJson(item);
  return { ...(redactJson(item) as object), value: REDACTED };
}

type Template = NonNullable<CreateTaskRequest["template"]>;
type Metadata = NonNullable<CreateTaskRequest["taskExecutionMetadata"]>;

function redactTemplate(template: Template | undefined): Template | undefined {
  if (!template) return undefined;
  const container = template.container && {
    ...template.container,
    // Container env values are environment variables too: redacted whatever their names.
    env: template.container.env.map((kv) => ({ ...kv, value: REDACTED })),
  };
  const k8sPod = template.k8sPod && {
    ...template.k8sPod,
    ...(template.k8sPod.podSpec
      ? { podSpec: redactJson(template.k8sPod.podSpec) as Record<string, unknown> }
      : {}),
  };
  return {
    ...template,
    ...(template.custom ? { custom: redactJson(template.custom) as Template["custom"] } : {}),
    ...(k8sPod ? { k8sPod } : {}),
    config: redactMap(template.config, false),
    ...(container ? { container } : {}),
  };
}

function redactMetadata(metadata: Metadata | undefined): Metadata | undefined {
  if (!metadata) return undefined;
  return {
    ...metadata,
    labels: redactMap(metadata.labels, false),
    annotations: redactMap(metadata.annotations, false),
    environmentVariables: redactMap(metadata.environmentVariables, true),
  };
}

/**
 * A copy of `request` fit to be written down: every environment variable value (task execution
 * metadata, container env) and the value of every secret-looking key in the template's `custom` and
 * `config` and the metadata's labels and annotations become {@link REDACTED}. Keys, inputs and every
 * other field are kept, so the request stays replayable.
 */
export function redactCreateTaskRequest(request: CreateTaskRequest): CreateTaskRequest {
  const template = redactTemplate(request.template);
  const metadata = redactMetadata(request.taskExecutionMetadata);
  return {
    ...request,
    ...(template ? { template } : {}),
    ...(metadata ? { taskExecutionMetadata: metadata } : {}),
  };
}

/** {@link redactCreateTaskRequest} for one message of an ExecuteTaskSync stream. */
export function redactExecuteTaskSyncRequest(message: ExecuteTaskSyncRequest): ExecuteTaskSyncRequest {
  const header = message.header;
  if (!header) return message;
  const template = redactTemplate(header.template);
  const metadata = redactMetadata(header.taskExecutionMetadata);
  return {
    ...message,
    header: {
      ...header,
      ...(template ? { template } : {}),
      ...(metadata ? { taskExecutionMetadata: metadata } : {}),
    },
  };
}
