import {
  AgentRegistry,
  registerBuiltinAgents,
  SensorBase,
  SensorRegistry,
  type AgentContext,
} from "@flyte-agent/runtime";
import { z } from "zod";
import { LocalObjectStore, type ObjectStore } from "./object-store.js";

/** What the sensor is asked to wait for (the sensor task's inputs). */
export const StarterSensorInputs = { path: z.string().min(1).describe("the object to wait for") };

/**
 * A sensor: it answers one question, "has the object appeared?". The sensor engine (a built-in async
 * agent serving task type `sensor`) calls `poke` on every FlytePropeller poll; the task succeeds on
 * the first `true`, and fails once its timeout passes. Nothing runs between polls and nothing is kept
 * but the task's own metadata, so any server replica can answer.
 */
export class StarterSensor extends SensorBase<{ path: string }> {
  /** The sensor's identity in the task's metadata: keep it stable while tasks are in flight. */
  static readonly sensorName = "StarterSensor";
  static readonly inputs = StarterSensorInputs;

  // ── Call the real API here ────────────────────────────────────────────────────────────────────────
  // Replace the stand-in with your store's client (e.g. an object store's "head object" call). Read
  // credentials per call with getAgentSecret("MY_STORE_TOKEN") (from flyte-agent).
  store: ObjectStore = new LocalObjectStore();

  async poke({ path }: { path: string }, { signal }: AgentContext): Promise<boolean> {
    return this.store.exists(path, signal);
  }
}

// `flyte-agent serve agent` imports this module (see "flyteAgent" in package.json): it makes the
// sensor known to the engine and asks for the engine itself (built-ins are served only when asked).
SensorRegistry.register(StarterSensor);
registerBuiltinAgents(AgentRegistry.default, ["sensor"]);
