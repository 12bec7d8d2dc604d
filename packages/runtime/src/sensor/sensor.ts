import type { AgentContext } from "../core/context.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import type { JsonObject } from "../task/define-task.js";
import type { SchemaShape } from "../types/literal.js";

/**
 * Base class of sensors: a `poke` that answers whether the awaited condition holds. The sensor engine
 * calls it on every GetTask until it returns true. One instance is built per (sensor, config) and
 * reused across polls, so a sensor may keep clients or connections in fields.
 *
 * A subclass declares a stable `static sensorName` (its identity in resource_meta, so it must not
 * change while tasks are in flight) and, optionally, `static inputs` (the default inputs of tasks
 * made with `defineSensorTask`).
 *
 * @example
 * ```ts
 * class QueueEmptySensor extends SensorBase<{ queue: string }, { url: string }> {
 *   static readonly sensorName = "QueueEmptySensor";
 *   static readonly inputs = { queue: z.string() };
 *   async poke({ queue }, { signal }) {
 *     const res = await fetch(`${this.config.url}/queues/${queue}`, { signal });
 *     return (await res.json()).depth === 0;
 *   }
 * }
 * ```
 */
export abstract class SensorBase<
  I extends Record<string, unknown> = Record<string, unknown>,
  C extends JsonObject = JsonObject,
> {
  /** The task's sensor config (`sensor_config`), as given to `defineSensorTask`. */
  readonly config: C;

  constructor(config: C) {
    this.config = config;
  }

  /**
   * True when the condition holds (the task then SUCCEEDS), false to be asked again at the next poll.
   * Inputs are the task's inputs as JSON values. Throwing fails this GetTask call (FlytePropeller
   * retries a few times, then fails the task).
   */
  abstract poke(inputs: I, context: AgentContext): boolean | Promise<boolean>;
}

/** A sensor class as the engine and `defineSensorTask` see it. */
export interface SensorClass<I extends Record<string, unknown> = any, C extends JsonObject = any> {
  new (config: C): SensorBase<I, C>;
  /** Stable identity stored in resource_meta (`sensor_name`). */
  readonly sensorName: string;
  /**
   * The Python module of the sensor's flytekit counterpart (`sensor_module`), which flytekit's sensor
   * engine imports to find a class named `sensorName`. Set it only when such a class exists: the
   * task's resource_meta then holds exactly flytekit's keys, so flytekit replicas can run it (and the
   * timeout is left to FlytePropeller). Without it, the metadata also stores the start time and
   * timeout for our engine to enforce.
   * @default ""
   */
  readonly sensorModule?: string;
  /** Default inputs of tasks made with `defineSensorTask`. */
  readonly inputs?: SchemaShape;
}

const registryKey = Symbol.for("flyte-agent.sensor.registry");

/**
 * Sensor classes by name. The sensor engine finds sensors here, never by importing a module named in
 * resource_meta, so a task can only run code the server was given. Shared through `globalThis` so a
 * user's copy of the library and the CLI's agree. Registering a sensor class advertises nothing: the
 * engine itself is only served when asked for.
 */
export class SensorRegistry {
  readonly #byName = new Map<string, SensorClass>();

  /** The process-wide registry, filled by `defineSensorTask` and {@link SensorRegistry.register}. */
  static get default(): SensorRegistry {
    const g = globalThis as { [registryKey]?: SensorRegistry };
    return (g[registryKey] ??= new SensorRegistry());
  }

  /** Registers in the process-wide registry. */
  static register(sensor: SensorClass): void {
    SensorRegistry.default.register(sensor);
  }

  /**
   * Adds a sensor class under its `sensorName`. Registering the same class again is a no-op.
   * @throws FlyteAgentError (`INVALID_CONFIG`) for a class without a name, or a second class with a
   *   name already taken.
   */
  register(sensor: SensorClass): void {
    const name = sensorNameOf(sensor);
    const existing = this.#byName.get(name);
    if (existing && existing !== sensor) {
      // Two copies of the library each define the built-in sensors: same name and module, same code.
      if (existing.sensorModule !== undefined && existing.sensorModule === sensor.sensorModule) return;
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `another sensor class is already registered as "${name}"; give one of them a different static sensorName`,
      );
    }
    this.#byName.set(name, sensor);
  }

  /** The class registered under `name`, if any. */
  get(name: string): SensorClass | undefined {
    return this.#byName.get(name);
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }
}

/**
 * The identity of a sensor class.
 * @throws FlyteAgentError (`INVALID_CONFIG`) when it has no usable `static sensorName`.
 */
export function sensorNameOf(sensor: SensorClass): string {
  const name = (sensor as { sensorName?: unknown }).sensorName;
  if (typeof name !== "string" || name === "") {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `sensor class ${sensor.name || "(anonymous)"} needs a static sensorName (its stable identity)`,
    );
  }
  return name;
}
