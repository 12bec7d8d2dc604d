import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { defineTask, type JsonObject, type TaskDefinition } from "../task/define-task.js";
import type { SchemaShape } from "../types/literal.js";
import { type SensorClass, SensorRegistry, sensorNameOf } from "./sensor.js";
import { SENSOR_TASK_TYPE } from "./sensor-engine.js";

/** What {@link defineSensorTask} takes. */
export interface SensorTaskOptions<I extends SchemaShape, C extends JsonObject> {
  /** The task's name (`TaskTemplate.id.name`). */
  name: string;
  /** The sensor class to poke; registered in `SensorRegistry.default` so the engine finds it. */
  sensor: SensorClass<any, C>;
  /** The sensor's config (`sensor_config`), handed to its constructor. @default {} */
  config?: C;
  /** Input schemas. @default the sensor class's static `inputs` */
  inputs?: I;
  /** Give up after this long: seconds, or a duration such as `"1h"`. The task then FAILS. @default no timeout */
  timeout?: number | string;
  /** @default 0 */
  retries?: number;
  description?: string;
  /** @default "flytesnacks" */
  project?: string;
  /** @default "development" */
  domain?: string;
  /** @default "local" */
  version?: string;
}

/** The `TaskTemplate.custom` of a sensor task. */
export type SensorTaskConfig = {
  readonly sensor_module: string;
  readonly sensor_name: string;
  /** `null` without a config, as flytekit's `BaseSensor.get_custom` writes it. */
  readonly sensor_config: JsonObject | null;
};

/**
 * Defines a task of type `sensor` that succeeds once the sensor's `poke` returns true. Served by the
 * sensor engine (`builtinAgents(["sensor"])`).
 *
 * @example
 * ```ts
 * export const waitForFile = defineSensorTask({ name: "wait_for_file", sensor: FileSensor, timeout: "1h" });
 * // flyte-agent run task.ts wait_for_file --path /tmp/ready.txt
 * ```
 */
export function defineSensorTask<
  const I extends SchemaShape = SchemaShape,
  const C extends JsonObject = JsonObject,
>(options: SensorTaskOptions<I, C>): TaskDefinition<I, Record<never, never>, SensorTaskConfig> {
  if (typeof options.sensor !== "function") {
    throw new FlyteAgentError(
      ErrorCode.INVALID_TASK_TEMPLATE,
      `task "${options.name}": sensor must be a sensor class (extending SensorBase)`,
    );
  }
  const sensorName = sensorNameOf(options.sensor);
  SensorRegistry.register(options.sensor);
  const inputs = (options.inputs ?? options.sensor.inputs ?? {}) as I;
  return defineTask({
    name: options.name,
    taskType: SENSOR_TASK_TYPE,
    inputs,
    config: {
      sensor_module: options.sensor.sensorModule ?? "",
      sensor_name: sensorName,
      sensor_config: options.config ?? null,
    } satisfies SensorTaskConfig,
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.project !== undefined ? { project: options.project } : {}),
    ...(options.domain !== undefined ? { domain: options.domain } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
  });
}
