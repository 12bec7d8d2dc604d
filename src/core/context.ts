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
}

/** Arguments of `create` (async agents) and `do` (sync agents). */
export interface TaskRequest<Inputs = Record<string, unknown>> extends AgentContext {
  /** The task template as FlytePropeller sent it (container args already rendered). */
  readonly taskTemplate: TaskTemplate;
  /** Inputs converted to plain JavaScript values using the template's interface. */
  readonly inputs: Inputs;
  /** The inputs exactly as they came on the wire. */
  readonly inputLiterals: LiteralMap | undefined;
  /** Execution id, namespace, labels, annotations, service account, env of the task execution. */
  readonly taskExecutionMetadata: TaskExecutionMetadata | undefined;
}
