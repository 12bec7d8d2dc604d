import type { TaskExecutionMetadata } from "../gen/flyteidl/admin/agent.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import type { LiteralMap } from "../gen/flyteidl/core/literals.js";

/**
 * The logging surface handed to agent code: a subset of pino's API, so the server can pass a pino
 * child logger that already carries the task execution id and task type.
 */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything (the default outside the server). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * What Flyte 2 resolved for a task before calling its connector (`flyteidl2.core.Connection`): the
 * secret values the task's `custom.secrets` named, read by the platform from its secret store, and
 * plain configuration. Flyte 1 has no such field (its agents read secrets from their own pod with
 * `getAgentSecret`), so Flyte 1 calls have no `connection` at all.
 *
 * The server never logs it, never writes it to resource_meta, and blanks the secret values in
 * `--record` files; `JSON.stringify` and pino see the secret values as `"***"`. Keep it that way:
 * do not copy secret values into resource_meta (Flyte 2 sends the connection again on every
 * GetTask and DeleteTask, so there is no need to).
 */
export interface Connection {
  /** The task type the platform resolved the connection for. */
  readonly taskType: string;
  /** Secret values by the name the task gave them. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Plain configuration values by name. */
  readonly configs: Readonly<Record<string, string>>;
}

/** What every agent call receives besides its own arguments. */
export interface AgentContext {
  /** Fires when the caller cancels or the call's deadline passes; pass it to `fetch` and friends. */
  readonly signal: AbortSignal;
  /** Structured logger bound to this call (task execution id and task type on every line). */
  readonly logger: Logger;
  /** Where outputs of this attempt go (`{outputPrefix}/outputs.pb`); empty when the caller sent none. */
  readonly outputPrefix: string;
  /** The deadline of this call, if the caller set one. */
  readonly deadline?: Date;
  /**
   * Flyte 2 only (CreateTask, GetTask, DeleteTask): the secrets and configs the platform resolved for
   * the task. Undefined for Flyte 1 calls, and for GetTaskLogs/GetTaskMetrics, whose requests
   * carry none.
   */
  readonly connection?: Connection;
}

/**
 * A {@link Connection} whose secret values do not leave through serialization: `JSON.stringify`
 * (which pino uses) and `util.inspect` show each secret as `"***"`, while the agent reads the real
 * values from `secrets`.
 */
export function redactingConnection(
  taskType: string,
  secrets: Readonly<Record<string, string>>,
  configs: Readonly<Record<string, string>>,
): Connection {
  const redacted = () => ({
    taskType,
    secrets: Object.fromEntries(Object.keys(secrets).map((k) => [k, "***"])),
    configs,
  });
  const connection = {
    taskType,
    secrets: Object.freeze({ ...secrets }),
    configs: Object.freeze({ ...configs }),
  };
  // Non-enumerable, so spreading the connection copies the fields only.
  Object.defineProperty(connection, "toJSON", { value: redacted });
  Object.defineProperty(connection, Symbol.for("nodejs.util.inspect.custom"), { value: redacted });
  return Object.freeze(connection);
}

/**
 * Arguments of `create` (async agents) and `do` (sync agents). A Flyte 2 request arrives in the same
 * shapes: its template, inputs and metadata are `flyteidl2` messages that share Flyte 1's field
 * numbers, decoded as the Flyte 1 messages (fields only Flyte 2 has, as `TaskMetadata.debuggable`,
 * are left out).
 */
export interface TaskRequest<Inputs = Record<string, unknown>> extends AgentContext {
  /** The task template as the platform sent it (container args already rendered). */
  readonly taskTemplate: TaskTemplate;
  /** Inputs converted to plain JavaScript values using the template's interface. */
  readonly inputs: Inputs;
  /** The inputs exactly as they came on the wire. */
  readonly inputLiterals: LiteralMap | undefined;
  /** Execution id, namespace, labels, annotations, service account, env of the task execution. */
  readonly taskExecutionMetadata: TaskExecutionMetadata | undefined;
  /** Flyte 2 only: the key/value context the inputs came with (`flyteidl2.task.Inputs.context`). */
  readonly inputContext?: Readonly<Record<string, string>>;
}
