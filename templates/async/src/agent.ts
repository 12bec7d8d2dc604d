import {
  AgentRegistry,
  AsyncAgentBase,
  convertToFlytePhase,
  TaskExecutionPhase,
  type AgentContext,
  type Resource,
  type TaskRequest,
} from "@flyte-agent/runtime";
import { z } from "zod";
import { type JobClient, StandInJobService } from "./job-service.js";
import { starterTask } from "./task.js";

/**
 * What `create` returns. FlytePropeller stores it (as JSON bytes) and hands it back to every `get`
 * and `delete`, so it must identify the job on its own. Flyte persists it: never put secrets here.
 */
const Meta = z.object({ job_id: z.string() });
type Meta = z.output<typeof Meta>;

const Inputs = z.object(starterTask.inputs);
const Config = z.object({ durationSeconds: z.number().nonnegative().default(1) });

/** Options of {@link StarterAgent}. */
export interface StarterAgentOptions {
  /** The job service client. @default the stand-in service */
  readonly client?: JobClient;
}

/**
 * Runs `starter_task` tasks as jobs on an external service: `create` submits a job, `get` reports its
 * state (FlytePropeller polls it), `delete` cancels it.
 */
export class StarterAgent extends AsyncAgentBase<typeof Meta> {
  readonly #client: JobClient;

  constructor(options: StarterAgentOptions = {}) {
    super({ taskTypeName: "starter_task", metadataSchema: Meta, outputs: starterTask.outputs });
    // ── Call the real API here ──────────────────────────────────────────────────────────────────────
    // Replace the stand-in with your service's client. Read credentials per call with
    // getAgentSecret("MY_SERVICE_TOKEN") (from flyte-agent) rather than at start-up, so rotated
    // secrets are picked up.
    this.#client = options.client ?? new StandInJobService();
  }

  async create({ inputs, taskTemplate, signal }: TaskRequest): Promise<Meta> {
    const { message, repeat } = Inputs.parse(inputs);
    const { durationSeconds } = Config.parse(taskTemplate.custom ?? {});
    const jobId = await this.#client.submit({ message, repeat, durationMs: durationSeconds * 1000 }, signal);
    return { job_id: jobId };
  }

  async get(meta: Meta, { signal }: AgentContext): Promise<Resource> {
    const job = await this.#client.status(meta.job_id, signal);
    const phase = convertToFlytePhase(job.state);
    const logLinks = [{ name: "Job", uri: job.url }];
    if (phase === TaskExecutionPhase.SUCCEEDED) {
      const result = job.result ?? "";
      return { phase, outputs: { result, length: result.length }, logLinks };
    }
    return { phase, logLinks, ...(job.error ? { message: job.error } : {}) };
  }

  async delete(meta: Meta, { signal }: AgentContext): Promise<void> {
    await this.#client.cancel(meta.job_id, signal);
  }
}

// `flyte-agent serve agent` imports this module (see "flyteAgent" in package.json): registering here
// is what makes the server answer for starter_task.
AgentRegistry.register(new StarterAgent());
