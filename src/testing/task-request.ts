import type {
  AgentContext,
  Connection,
  Logger,
  TaskRequest,
} from "@flyte-agent/runtime/internal/core/context.js";
import { redactingConnection, silentLogger } from "@flyte-agent/runtime/internal/core/context.js";
import { TaskExecutionMetadata } from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import { LiteralMap } from "@flyte-agent/runtime/internal/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "@flyte-agent/runtime/internal/gen/flyteidl/core/tasks.js";
import { decodeInputs } from "@flyte-agent/runtime/internal/types/task-literals.js";
import type { TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import type { SchemaShape, ShapeInput } from "@flyte-agent/runtime/internal/types/literal.js";

/** What {@link createAgentContext} and the helpers built on it take. */
export interface AgentContextOptions {
  /** Aborts the call, as a cancelled gRPC call or a passed deadline would. @default never aborts */
  readonly signal?: AbortSignal;
  /** @default a logger that drops everything */
  readonly logger?: Logger;
  /** Where the attempt writes `outputs.pb`. @default "" (as when FlytePropeller sends none) */
  readonly outputPrefix?: string;
  /** The deadline the call reports; nothing fires on it (pass `signal` for that). */
  readonly deadline?: Date;
  /**
   * Makes the call a Flyte 2 call carrying this connection (`context.connection`): the secrets and
   * configs the platform resolved for the task. The agent receives it as the server hands it over,
   * its secret values shown as `"***"` when serialized or logged. `startAsyncTask` passes it again to
   * every `get` and `delete`, as Flyte 2 sends it with every GetTask and DeleteTask.
   * @default undefined: a Flyte 1 call, which carries no connection
   */
  readonly connection?: Connection;
}

/** What {@link createTaskRequest} takes besides the task and its inputs. */
export interface TaskRequestOptions extends AgentContextOptions {
  /** Execution id, namespace, labels... of the task execution. @default empty metadata */
  readonly taskExecutionMetadata?: Partial<TaskExecutionMetadata>;
  /** Changes the template before it is sent (e.g. to test a malformed `custom`). */
  readonly editTemplate?: (template: TaskTemplate) => TaskTemplate | void;
}

/** The context of one agent call, as the server builds it. */
export function createAgentContext(options: AgentContextOptions = {}): AgentContext {
  return {
    signal: options.signal ?? new AbortController().signal,
    logger: options.logger ?? silentLogger,
    outputPrefix: options.outputPrefix ?? "",
    ...(options.deadline ? { deadline: options.deadline } : {}),
    ...(options.connection ? { connection: asServed(options.connection) } : {}),
  };
}

/** A connection as the server builds it from a Flyte 2 request: frozen, secret values redacted when serialized. */
function asServed(c: Connection): Connection {
  return redactingConnection(c.taskType, c.secrets, c.configs);
}

function roundTrip<T>(codec: { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T }, m: T): T {
  return codec.decode(codec.encode(m).finish());
}

/**
 * The request an agent's `create` or `do` receives for `task` run with `inputs`, exactly as the server
 * would hand it over: the template and inputs go through protobuf encoding and the inputs are decoded
 * to plain values with the template's interface (so an integer arrives as a `number`, a datetime as a
 * `Date`, a default you left out filled in).
 *
 * @throws TypeTransformError when the inputs do not fit the task's input schemas.
 */
export function createTaskRequest<I extends SchemaShape>(
  task: TaskDefinition<I, SchemaShape, any>,
  inputs: ShapeInput<I>,
  options: TaskRequestOptions = {},
): TaskRequest {
  let template = task.template();
  template = options.editTemplate?.(template) ?? template;
  const wireTemplate = roundTrip(TaskTemplate, template);
  const wireInputs = roundTrip(LiteralMap, task.encodeInputs(inputs));
  const metadata = roundTrip(
    TaskExecutionMetadata,
    TaskExecutionMetadata.fromPartial(options.taskExecutionMetadata ?? {}),
  );
  return {
    ...createAgentContext(options),
    taskTemplate: wireTemplate,
    inputs: decodeInputs(wireTemplate, wireInputs),
    inputLiterals: wireInputs,
    taskExecutionMetadata: metadata,
  };
}
