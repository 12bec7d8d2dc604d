import {
  AgentRegistry,
  SyncAgentBase,
  TaskExecutionPhase,
  type Resource,
  type TaskRequest,
} from "@flyte-agent/runtime";
import { z } from "zod";
import { type RatesClient, StandInRatesService } from "./rates-service.js";
import { starterTask } from "./task.js";

const Inputs = z.object(starterTask.inputs);
const Config = z.object({ decimals: z.int().min(0).max(8).default(2) });

/** Options of {@link StarterAgent}. */
export interface StarterAgentOptions {
  /** The rates API client. @default the stand-in service */
  readonly client?: RatesClient;
}

/**
 * Runs `starter_task` tasks in one call (FlytePropeller's `ExecuteTaskSync`): `do` calls the API and
 * returns the outputs. Use a sync agent when the answer comes back within a few seconds.
 */
export class StarterAgent extends SyncAgentBase {
  readonly #client: RatesClient;

  constructor(options: StarterAgentOptions = {}) {
    super({ taskTypeName: "starter_task", outputs: starterTask.outputs });
    // ── Call the real API here ──────────────────────────────────────────────────────────────────────
    // Replace the stand-in with your API's client. Read credentials per call with
    // getAgentSecret("MY_API_TOKEN") (from flyte-agent) rather than at start-up, so rotated secrets
    // are picked up.
    this.#client = options.client ?? new StandInRatesService();
  }

  async do({ inputs, taskTemplate, signal }: TaskRequest): Promise<Resource> {
    const { amount, from, to } = Inputs.parse(inputs);
    const { decimals } = Config.parse(taskTemplate.custom ?? {});
    const rate = await this.#client.rate(from, to, signal);
    if (rate === undefined) {
      // A bad input will not get better on retry: say so, so Flyte does not retry.
      return {
        phase: TaskExecutionPhase.FAILED,
        message: `no rate from ${from} to ${to}`,
        agentError: { code: "UNKNOWN_CURRENCY", kind: "NON_RECOVERABLE" },
      };
    }
    const scale = 10 ** decimals;
    return {
      phase: TaskExecutionPhase.SUCCEEDED,
      outputs: { converted: Math.round(amount * rate * scale) / scale, rate },
    };
  }
}

// `flyte-agent serve agent` imports this module (see "flyteAgent" in package.json): registering here
// is what makes the server answer for starter_task.
AgentRegistry.register(new StarterAgent());
