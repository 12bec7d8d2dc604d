import { z } from "zod";
import { AsyncAgentBase } from "../core/agent.js";
import type { AgentContext, TaskRequest } from "../core/context.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { TaskExecutionPhase } from "../core/phase.js";
import type { Resource } from "../core/resource.js";
import { pythonJsonDumps } from "../core/resource-meta.js";
import type { JsonObject } from "../task/define-task.js";
import { durationToMs, formatDuration } from "../types/duration.js";
import { toJsonValue } from "../types/json-value.js";
import { FileSensor } from "./file-sensor.js";
import { type SensorBase, type SensorClass, SensorRegistry } from "./sensor.js";

/** The task type the sensor engine serves, as in flytekit. */
export const SENSOR_TASK_TYPE = "sensor";

/**
 * The sensor engine's resource_meta. The first four keys are flytekit's `SensorMetadata`
 * (flytekit `sensor/base_sensor.py`), so a Python sensor task's metadata is read as is.
 *
 * For a sensor with a flytekit counterpart (its class names a `sensorModule`, as the built-in
 * FileSensor names `flytekit.sensor.file_sensor`) the metadata holds exactly those four keys: flytekit's
 * `ResourceMeta.decode` builds the dataclass with `dataclass_from_dict`, which raises `KeyError` on any
 * other key (flytekit `core/type_engine.py`), so a flytekit replica can take the task over. The
 * task's timeout is then FlytePropeller's (the node's execution deadline aborts the attempt with
 * DeleteTask) and `flyte-agent run`'s. A TypeScript-only sensor (no module: no flytekit replica can
 * import it anyway) also stores `created_at` (epoch seconds) and `timeout_seconds`, so that any
 * replica of ours enforces the timeout without server state.
 */
export const SensorMetadata = z.object({
  sensor_module: z.string(),
  sensor_name: z.string().min(1),
  sensor_config: z.unknown().optional(),
  inputs: z.record(z.string(), z.unknown()).default({}),
  created_at: z.number().optional(),
  timeout_seconds: z.number().nullable().optional(),
});
export type SensorMetadata = z.output<typeof SensorMetadata>;

/**
 * What a sensor task's `TaskTemplate.custom` holds: flytekit's keys, with the config as JSON under
 * `sensor_config`. flytekit's own tasks carry it as a jsonpickle string under `sensor_config_pkl`,
 * which is plain JSON for plain values, so those are read too.
 */
const SensorCustom = z.object({
  sensor_module: z.string().default(""),
  sensor_name: z.string().min(1),
  sensor_config: z.unknown().optional(),
  sensor_config_pkl: z.string().optional(),
});

/** Options of {@link createSensorEngine}. */
export interface SensorEngineOptions {
  /** Where sensor classes are looked up (the built-in {@link FileSensor} is always known). @default SensorRegistry.default */
  readonly sensors?: SensorRegistry;
  /** Current time in milliseconds, for timeouts. @default Date.now */
  readonly now?: () => number;
  /** How many sensor instances (one per sensor and config) are kept for reuse. @default 256 */
  readonly maxCachedSensors?: number;
  /** Name shown by ListAgents. @default "Sensor" */
  readonly name?: string;
}

interface ResolvedOptions {
  readonly sensors: SensorRegistry;
  readonly now: () => number;
  readonly maxCachedSensors: number;
  readonly name: string;
}

function resolveOptions(options: SensorEngineOptions): ResolvedOptions {
  const maxCachedSensors = options.maxCachedSensors ?? 256;
  if (!Number.isSafeInteger(maxCachedSensors) || maxCachedSensors < 1) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `maxCachedSensors must be a positive integer, got ${maxCachedSensors}`,
    );
  }
  return {
    sensors: options.sensors ?? SensorRegistry.default,
    now: options.now ?? Date.now,
    maxCachedSensors,
    name: options.name ?? "Sensor",
  };
}

const builtinSensors: readonly SensorClass[] = [FileSensor];

/** Marks sensor engines across copies of the library. */
export const sensorEngineBrand = Symbol.for("flyte-agent.sensor-engine");

/**
 * The async agent for task type `sensor`. `create` stores the sensor's identity, config and inputs
 * (and the start time and timeout) in resource_meta; every `get` pokes the sensor and answers
 * SUCCEEDED when it returns true, RUNNING otherwise, and FAILED once the task's timeout has passed;
 * `delete` has nothing to cancel.
 *
 * Unlike flytekit's engine, the sensor instance is built once per (sensor, config) and reused across
 * polls (a bounded cache), and it receives its config.
 */
export class SensorEngine extends AsyncAgentBase<typeof SensorMetadata> {
  readonly [sensorEngineBrand] = true;
  readonly #options: ResolvedOptions;
  readonly #instances = new Map<string, SensorBase>();

  constructor(options: SensorEngineOptions = {}) {
    const resolved = resolveOptions(options);
    super({ taskTypeName: SENSOR_TASK_TYPE, name: resolved.name, metadataSchema: SensorMetadata });
    this.#options = resolved;
  }

  /** How many sensor instances are cached (for tests and metrics). */
  get cachedSensors(): number {
    return this.#instances.size;
  }

  override async create(request: TaskRequest): Promise<SensorMetadata> {
    const parsed = SensorCustom.safeParse(request.taskTemplate.custom ?? {});
    if (!parsed.success) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_TASK_TEMPLATE,
        "a sensor task's config needs sensor_name (and optionally sensor_module, sensor_config): define it with defineSensorTask",
      );
    }
    const custom = parsed.data;
    const config = normalizeConfig(custom.sensor_config ?? custom.sensor_config_pkl);
    // Builds (and caches) the instance now, so an unknown sensor or a bad config fails the create
    // with a clear message instead of every later poll.
    this.#sensor(custom.sensor_name, config);
    const flytekitKeys: SensorMetadata = {
      sensor_module: custom.sensor_module,
      sensor_name: custom.sensor_name,
      // flytekit writes None for a sensor without config (base_sensor.py get_custom).
      sensor_config: Object.keys(config).length > 0 ? config : null,
      inputs: toJsonObject(request.inputs, "inputs"),
    };
    if (custom.sensor_module !== "") return flytekitKeys;
    const timeout = request.taskTemplate.metadata?.timeout;
    const timeoutMs = timeout ? durationToMs(timeout) : 0;
    return {
      ...flytekitKeys,
      created_at: this.#options.now() / 1000,
      timeout_seconds: timeoutMs > 0 ? timeoutMs / 1000 : null,
    };
  }

  override async get(meta: SensorMetadata, context: AgentContext): Promise<Resource> {
    const name = meta.sensor_name;
    if (meta.created_at !== undefined && meta.timeout_seconds) {
      const elapsedMs = this.#options.now() - meta.created_at * 1000;
      if (elapsedMs >= meta.timeout_seconds * 1000) {
        return {
          phase: TaskExecutionPhase.FAILED,
          message: `sensor ${name} timed out: its condition did not hold within ${formatDuration(
            meta.timeout_seconds * 1000,
          )} (the task's timeout)`,
          agentError: { code: "SENSOR_TIMEOUT" },
        };
      }
    }
    let sensor: SensorBase;
    try {
      sensor = this.#sensor(name, normalizeConfig(meta.sensor_config));
    } catch (err) {
      // A replica that lacks the sensor will never have it: fail the task rather than the call.
      return {
        phase: TaskExecutionPhase.FAILED,
        message: (err as Error).message,
        agentError: { code: "SENSOR_NOT_FOUND" },
      };
    }
    const ok = await sensor.poke(meta.inputs, context);
    return ok
      ? { phase: TaskExecutionPhase.SUCCEEDED, message: `sensor ${name} condition met` }
      : { phase: TaskExecutionPhase.RUNNING }; // no message: FlytePropeller drops it on RUNNING
  }

  override async delete(): Promise<void> {
    // Nothing runs between polls, so there is nothing to cancel.
  }

  #sensor(name: string, config: JsonObject): SensorBase {
    const key = `${name}\u0000${pythonJsonDumps(config)}`;
    const cached = this.#instances.get(key);
    if (cached) {
      // Least recently used goes first: re-inserting moves the entry to the end.
      this.#instances.delete(key);
      this.#instances.set(key, cached);
      return cached;
    }
    const cls = this.#options.sensors.get(name) ?? builtinSensors.find((s) => s.sensorName === name);
    if (!cls) {
      const known = [
        ...new Set([...this.#options.sensors.names(), ...builtinSensors.map((s) => s.sensorName)]),
      ].sort();
      throw new FlyteAgentError(
        ErrorCode.INVALID_TASK_TEMPLATE,
        `sensor "${name}" is not registered on this server (registered: ${known.join(", ")}); load the module that defines it`,
      );
    }
    const instance = new cls(config);
    this.#instances.set(key, instance);
    if (this.#instances.size > this.#options.maxCachedSensors) {
      const oldest = this.#instances.keys().next().value;
      if (oldest !== undefined) this.#instances.delete(oldest);
    }
    return instance;
  }
}

/** Creates a sensor engine (nothing is registered: pass it to a registry or use `builtinAgents`). */
export function createSensorEngine(options: SensorEngineOptions = {}): SensorEngine {
  return new SensorEngine(options);
}

/** True for a sensor engine, even one built by another copy of the library. */
export function isSensorEngine(value: unknown): value is SensorEngine {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[sensorEngineBrand] === true
  );
}

function normalizeConfig(raw: unknown): JsonObject {
  if (raw === undefined || raw === null || raw === "") return {};
  if (typeof raw === "string") {
    try {
      return normalizeConfig(JSON.parse(raw));
    } catch {
      throw new FlyteAgentError(
        ErrorCode.INVALID_TASK_TEMPLATE,
        "sensor_config is a string that is not JSON",
      );
    }
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new FlyteAgentError(ErrorCode.INVALID_TASK_TEMPLATE, "sensor_config must be a JSON object");
  }
  return raw as JsonObject;
}

/**
 * Input values as JSON (resource_meta is JSON written exactly, integers of any size included): dates
 * become ISO strings and bytes base64.
 */
function toJsonObject(values: Record<string, unknown>, path: string): JsonObject {
  return toJsonValue(values, { path, label: "sensor", bigint: "keep", bytes: "base64" }) as JsonObject;
}
