import { z } from "zod";
import type { AgentContext } from "../core/context.js";
import type { JsonObject } from "../task/define-task.js";
import { exists } from "../storage/storage.js";
import { SensorBase } from "./sensor.js";

/** Inputs of {@link FileSensor}: the path or URI to wait for. */
export interface FileSensorInputs extends Record<string, unknown> {
  /** A local path, a `file://` URI, or a URI of any scheme a storage provider is registered for. */
  readonly path: string | { readonly uri: string };
}

/**
 * Succeeds once something exists at the input `path`: a local path or `file://` URI out of the box;
 * `s3://`, `gs://`, ... once a storage provider for the scheme is registered. It is flytekit's
 * `FileSensor` in identity (same module, class name and `path` input), so a task it creates can be
 * completed by flytekit's sensor engine and the reverse.
 */
export class FileSensor extends SensorBase<FileSensorInputs, JsonObject> {
  static readonly sensorName = "FileSensor";
  /** flytekit's module for its FileSensor, which flytekit's engine imports by name (flytekit `sensor/file_sensor.py`). */
  static readonly sensorModule = "flytekit.sensor.file_sensor";
  static readonly inputs = { path: z.string().min(1).describe("the path or URI to wait for") };

  override async poke(inputs: FileSensorInputs, context: AgentContext): Promise<boolean> {
    const path = typeof inputs.path === "string" ? inputs.path : inputs.path?.uri;
    if (typeof path !== "string" || path === "") {
      throw new TypeError("FileSensor needs a non-empty `path` input");
    }
    return exists(path, { signal: context.signal });
  }
}
