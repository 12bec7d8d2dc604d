import type { TaskCategory } from "../core/task-category.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import type { Identifier } from "../gen/flyteidl/core/identifier.js";
import { ResourceType } from "../gen/flyteidl/core/identifier.js";
import type { TypedInterface } from "../gen/flyteidl/core/interface.js";
import type { LiteralMap } from "../gen/flyteidl/core/literals.js";
import {
  Container,
  RuntimeMetadata_RuntimeType,
  Sql_Dialect,
  TaskMetadata,
  TaskTemplate,
} from "../gen/flyteidl/core/tasks.js";
import type { Duration } from "../gen/google/protobuf/duration.js";
import { msToDuration, parseDuration } from "../types/duration.js";
import { TypeTransformError } from "../types/errors.js";
import {
  fromLiteralMap,
  toLiteralMap,
  type LiteralMapOptions,
  type SchemaShape,
  type ShapeInput,
  type ShapeOutput,
} from "../types/literal.js";
import { toVariableMap } from "../types/literal-type.js";
import { RUNTIME_FLAVOR, runtimeVersion } from "./runtime-version.js";

/** The property that marks a task definition; a `Symbol.for` key so two copies of the library agree. */
export const TASK_DEFINITION_BRAND: unique symbol = Symbol.for("flyte-agent.task") as never;

/** A JSON value, as `TaskTemplate.custom` (a `google.protobuf.Struct`) can hold it. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A JSON object: the task's `config`, written to `TaskTemplate.custom`. */
export type JsonObject = { readonly [key: string]: JsonValue };

/** SQL dialects of `TaskTemplate.sql`. */
export const SqlDialect = {
  ANSI: "ansi",
  HIVE: "hive",
  OTHER: "other",
} as const;
export type SqlDialect = (typeof SqlDialect)[keyof typeof SqlDialect];

const DIALECTS: Record<SqlDialect, Sql_Dialect> = {
  ansi: Sql_Dialect.ANSI,
  hive: Sql_Dialect.HIVE,
  other: Sql_Dialect.OTHER,
};

/** The container a task runs in (`TaskTemplate.container`), for agents that start containers. */
export interface TaskContainerOptions {
  image: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
}

/** Cache settings (`TaskMetadata.discoverable` and friends). */
export interface TaskCacheOptions {
  /** Bump it to invalidate cached outputs (`discovery_version`). */
  version: string;
  /** Let only one execution with the same inputs run at a time. @default false */
  serializable?: boolean;
  /** Inputs left out of the cache key. @default [] */
  ignoreInputs?: string[];
}

/** What {@link defineTask} takes. */
export interface TaskOptions<
  I extends SchemaShape = SchemaShape,
  O extends SchemaShape = SchemaShape,
  C extends JsonObject = JsonObject,
> {
  /** The task's name (`TaskTemplate.id.name`), e.g. `my_project.queries.daily_totals`. */
  name: string;
  /** The task type an agent serves (`TaskTemplate.type`), e.g. `warehouse_query`. */
  taskType: string;
  /** @default 0 */
  taskTypeVersion?: number;
  /** Named input schemas. @default {} */
  inputs?: I;
  /** Named output schemas. @default {} */
  outputs?: O;
  /** `Variable.description` per input (a schema's `.describe()` text is the fallback). */
  inputDescriptions?: Partial<Record<keyof I & string, string>>;
  /** `Variable.description` per output. */
  outputDescriptions?: Partial<Record<keyof O & string, string>>;
  /** A human description of the task (for listings and `--help`; not part of the template). */
  description?: string;
  /**
   * Agent-specific settings, written to `TaskTemplate.custom` as a Struct. Without a config, `custom`
   * is an empty Struct rather than unset: Flyte 2's connector plugin reads the connection from
   * `custom` and fails a task whose `custom` is unset ("nil Struct Object passed", flyteorg/flyte
   * `main`, flyteplugins/go/tasks/plugins/webapi/connector/plugin.go:171-175).
   */
  config?: C;
  /** A SQL statement (`TaskTemplate.sql`), ANSI unless a dialect is given. */
  sql?: string | { statement: string; dialect?: SqlDialect };
  /** Time limit: seconds as a number, or a duration string like `"10m"` (`TaskMetadata.timeout`). */
  timeout?: number | string;
  /** How many times Flyte retries the task on a recoverable failure. @default 0 */
  retries?: number;
  /** Whether the task may run on interruptible (spot) capacity. @default unset */
  interruptible?: boolean;
  /** Cache outputs by inputs. @default no caching */
  cache?: TaskCacheOptions;
  /** `TaskMetadata.tags`. */
  tags?: Record<string, string>;
  /** A container for container-based agents. */
  container?: TaskContainerOptions;
  /** @default "flytesnacks" */
  project?: string;
  /** @default "development" */
  domain?: string;
  /** @default "local" */
  version?: string;
}

/** A task an agent can run: its typed interface and the `TaskTemplate` FlytePropeller would send. */
export interface TaskDefinition<
  I extends SchemaShape = SchemaShape,
  O extends SchemaShape = SchemaShape,
  C extends JsonObject = JsonObject,
> {
  readonly [TASK_DEFINITION_BRAND]: true;
  readonly name: string;
  readonly taskType: string;
  readonly taskTypeVersion: number;
  /** The category an agent is looked up by. */
  readonly category: TaskCategory;
  readonly description: string | undefined;
  readonly inputs: I;
  readonly outputs: O;
  readonly config: C;
  /** The `TaskTemplate.id` of this task. */
  readonly id: Identifier;
  /** A fresh `TaskTemplate` (safe to mutate). */
  template(): TaskTemplate;
  /** The typed interface (`TaskTemplate.interface`). */
  interface(): TypedInterface;
  /** Validates input values with the schemas and converts them to a `LiteralMap`. */
  encodeInputs(values: ShapeInput<I>): LiteralMap;
  /** Converts an input `LiteralMap` to values, validated with the schemas. */
  decodeInputs(map: LiteralMap | undefined, options?: Omit<LiteralMapOptions, "label">): ShapeOutput<I>;
  /** Validates output values with the schemas and converts them to a `LiteralMap`. */
  encodeOutputs(values: ShapeInput<O>): LiteralMap;
  /** Converts an output `LiteralMap` to values, validated with the schemas. */
  decodeOutputs(map: LiteralMap | undefined, options?: Omit<LiteralMapOptions, "label">): ShapeOutput<O>;
}

/** True when `value` is a task made by {@link defineTask}, even by another copy of this library. */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [TASK_DEFINITION_BRAND]?: unknown })[TASK_DEFINITION_BRAND] === true
  );
}

function invalid(task: string, detail: string, cause?: unknown): never {
  throw new FlyteAgentError(ErrorCode.INVALID_TASK_TEMPLATE, `task "${task}": ${detail}`, { cause });
}

function checkJson(task: string, value: unknown, path: string): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) invalid(task, `config ${path} is ${value}, which JSON cannot hold`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJson(task, item, `${path}[${i}]`));
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) checkJson(task, item, `${path}.${key}`);
    return;
  }
  invalid(task, `config ${path} is a ${typeof value}, which JSON cannot hold`);
}

function resolveTimeout(task: string, timeout: number | string | undefined): Duration | undefined {
  if (timeout === undefined) return undefined;
  const ms = typeof timeout === "number" ? timeout * 1000 : parseDuration(timeout);
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    return invalid(
      task,
      `timeout must be a positive number of seconds or a duration like "10m", got ${JSON.stringify(timeout)}`,
    );
  }
  return msToDuration(ms);
}

function nonNegativeInt(task: string, what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    invalid(task, `${what} must be a non-negative integer, got ${value}`);
  return value;
}

/**
 * Defines a task: a typed interface plus everything FlytePropeller puts in the `TaskTemplate` it
 * sends to an agent. Used to register tasks, to run them locally (`flyte-agent run`) and in tests.
 *
 * @example
 * ```ts
 * export const dailyTotals = defineTask({
 *   name: "reports.daily_totals",
 *   taskType: "warehouse_query",
 *   inputs: { day: z.date(), limit: z.int().default(100) },
 *   outputs: { results: flyte.structuredDataset() },
 *   config: { warehouse: "analytics" },
 *   sql: "select * from totals where day = '{{ .Inputs.day }}' limit {{ .Inputs.limit }}",
 *   timeout: "10m",
 *   retries: 2,
 * });
 * ```
 *
 * @throws FlyteAgentError (`INVALID_TASK_TEMPLATE`) for a missing name or type, a schema with no Flyte
 *   type, a config that is not JSON, or a bad timeout or retry count.
 */
export function defineTask<
  const I extends SchemaShape = Record<never, never>,
  const O extends SchemaShape = Record<never, never>,
  const C extends JsonObject = Record<never, never>,
>(options: TaskOptions<I, O, C>): TaskDefinition<I, O, C> {
  const name = options.name;
  if (typeof name !== "string" || name.trim() === "") invalid(String(name), "a task needs a non-empty name");
  if (typeof options.taskType !== "string" || options.taskType.trim() === "") {
    invalid(name, "a task needs a non-empty taskType");
  }
  const taskType = options.taskType;
  const taskTypeVersion = nonNegativeInt(name, "taskTypeVersion", options.taskTypeVersion ?? 0);
  const retries =
    options.retries === undefined ? undefined : nonNegativeInt(name, "retries", options.retries);
  const timeout = resolveTimeout(name, options.timeout);
  const inputs = (options.inputs ?? {}) as I;
  const outputs = (options.outputs ?? {}) as O;
  const config = (options.config ?? {}) as C;
  if (options.config !== undefined) checkJson(name, options.config, "config");
  if (options.container && !options.container.image) invalid(name, "container.image is required");

  const buildInterface = (): TypedInterface => {
    try {
      return {
        inputs: toVariableMap(
          inputs,
          options.inputDescriptions as Record<string, string> | undefined,
          "input",
        ),
        outputs: toVariableMap(
          outputs,
          options.outputDescriptions as Record<string, string> | undefined,
          "output",
        ),
      };
    } catch (err) {
      if (err instanceof TypeTransformError) return invalid(name, err.message, err);
      throw err;
    }
  };
  // Fail at definition time, not when the task first runs.
  buildInterface();

  const id: Identifier = {
    resourceType: ResourceType.TASK,
    project: options.project ?? "flytesnacks",
    domain: options.domain ?? "development",
    name,
    version: options.version ?? "local",
    org: "",
  };
  const sql = typeof options.sql === "string" ? { statement: options.sql } : options.sql;

  const template = (): TaskTemplate => ({
    ...TaskTemplate.fromPartial({}),
    id: { ...id },
    type: taskType,
    taskTypeVersion,
    metadata: {
      ...TaskMetadata.fromPartial({}),
      runtime: {
        type: RuntimeMetadata_RuntimeType.FLYTE_SDK,
        version: runtimeVersion,
        flavor: RUNTIME_FLAVOR,
      },
      timeout: timeout ? { ...timeout } : undefined,
      retries: { retries: retries ?? 0 },
      interruptible: options.interruptible,
      discoverable: options.cache !== undefined,
      discoveryVersion: options.cache?.version ?? "",
      cacheSerializable: options.cache?.serializable ?? false,
      cacheIgnoreInputVars: [...(options.cache?.ignoreInputs ?? [])],
      tags: { ...(options.tags ?? {}) },
    },
    interface: buildInterface(),
    custom: structuredClone(options.config ?? {}),
    sql: sql ? { statement: sql.statement, dialect: DIALECTS[sql.dialect ?? SqlDialect.ANSI] } : undefined,
    container: options.container
      ? {
          ...Container.fromPartial({}),
          image: options.container.image,
          command: [...(options.container.command ?? [])],
          args: [...(options.container.args ?? [])],
          env: Object.entries(options.container.env ?? {}).map(([key, value]) => ({ key, value })),
        }
      : undefined,
  });

  return Object.freeze({
    [TASK_DEFINITION_BRAND]: true as const,
    name,
    taskType,
    taskTypeVersion,
    category: Object.freeze({ name: taskType, version: taskTypeVersion }),
    description: options.description,
    inputs,
    outputs,
    config,
    id: Object.freeze(id),
    template,
    interface: buildInterface,
    encodeInputs: (values: ShapeInput<I>) => toLiteralMap(inputs, values, { label: "input" }),
    decodeInputs: (map: LiteralMap | undefined, opts?: Omit<LiteralMapOptions, "label">) =>
      fromLiteralMap(inputs, map, { ...opts, label: "input" }),
    encodeOutputs: (values: ShapeInput<O>) => toLiteralMap(outputs, values, { label: "output" }),
    decodeOutputs: (map: LiteralMap | undefined, opts?: Omit<LiteralMapOptions, "label">) =>
      fromLiteralMap(outputs, map, { ...opts, label: "output" }),
  });
}
