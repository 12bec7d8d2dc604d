import {
  AgentRegistry,
  AsyncAgentBase,
  TaskExecutionPhase,
  type AgentContext,
  type Resource,
  type TaskRequest,
} from "flyte-agent";
import { z } from "zod";
import { LocalObjectStore, type ObjectStore } from "./object-store.js";
import { starterTask } from "./task.js";

/**
 * What the sensor needs on every poke. FlytePropeller stores it (as JSON bytes) and hands it back to
 * every `get`; Flyte persists it: never put secrets here.
 */
const Meta = z.object({ path: z.string() });
type Meta = z.output<typeof Meta>;

const Inputs = z.object(starterTask.inputs);

/** Options of {@link StarterAgent}. */
export interface StarterAgentOptions {
  /** The store to watch. @default the local filesystem */
  readonly store?: ObjectStore;
}

/**
 * A sensor: a task that waits for a condition. `create` records what to watch, every `get` (each
 * FlytePropeller poll) pokes, and the task succeeds on the first poke that finds the condition true.
 * Nothing runs between polls and nothing is kept in memory, so any server replica can answer.
 */
export class StarterAgent extends AsyncAgentBase<typeof Meta> {
  readonly #store: ObjectStore;

  constructor(options: StarterAgentOptions = {}) {
    super({ taskTypeName: "starter_task", metadataSchema: Meta });
    // ── Call the real API here ──────────────────────────────────────────────────────────────────────
    // Replace the stand-in with your store's client. Read credentials per call with
    // getAgentSecret("MY_STORE_TOKEN") (from flyte-agent) rather than at start-up.
    this.#store = options.store ?? new LocalObjectStore();
  }

  async create({ inputs }: TaskRequest): Promise<Meta> {
    return { path: Inputs.parse(inputs).path };
  }

  /** One poke: true ends the task. */
  async poke(meta: Meta, signal: AbortSignal): Promise<boolean> {
    return this.#store.exists(meta.path, signal);
  }

  async get(meta: Meta, { signal }: AgentContext): Promise<Resource> {
    return (await this.poke(meta, signal))
      ? { phase: TaskExecutionPhase.SUCCEEDED }
      : { phase: TaskExecutionPhase.RUNNING, message: `waiting for ${meta.path}` };
  }

  async delete(): Promise<void> {
    // Nothing runs between pokes, so there is nothing to cancel.
  }
}

// `flyte-agent serve agent` imports this module (see "flyteAgent" in package.json): registering here
// is what makes the server answer for starter_task.
AgentRegistry.register(new StarterAgent());
