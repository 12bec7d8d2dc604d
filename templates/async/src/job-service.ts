/**
 * A stand-in for the service that runs your jobs, so this project runs and its tests pass before it is
 * wired to a real API. Replace it with your service's client (see "Call the real API here" in
 * agent.ts); keep the {@link JobClient} shape or change it along with the agent.
 */

/** What the agent asks the service to run. */
export interface JobSpec {
  readonly message: string;
  readonly repeat: number;
  /** How long the stand-in pretends the job runs. */
  readonly durationMs: number;
}

/** The service's view of a job; `state` uses words `convertToFlytePhase` understands. */
export interface JobStatus {
  readonly state: "pending" | "running" | "succeeded" | "failed";
  /** A page about the job, shown in the Flyte console. */
  readonly url: string;
  readonly result?: string;
  readonly error?: string;
}

/** The calls the agent makes; your real client implements the same. */
export interface JobClient {
  submit(spec: JobSpec, signal: AbortSignal): Promise<string>;
  status(jobId: string, signal: AbortSignal): Promise<JobStatus>;
  /** Must succeed for unknown or finished jobs. */
  cancel(jobId: string, signal: AbortSignal): Promise<void>;
}

interface StandInJob extends JobSpec {
  readonly submittedAt: number;
}

/**
 * Runs nothing: a job id carries the whole job, and its state follows from the time since it was
 * submitted. Being stateless, it answers the same from any server replica, like a real service would.
 * A message of "fail" makes the job fail, to show the failure path.
 */
export class StandInJobService implements JobClient {
  readonly #now: () => number;

  /** @param now the clock; tests pass a manual one to step through the job without waiting. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async submit(spec: JobSpec, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const job: StandInJob = { ...spec, submittedAt: this.#now() };
    return Buffer.from(JSON.stringify(job)).toString("base64url");
  }

  async status(jobId: string, signal: AbortSignal): Promise<JobStatus> {
    signal.throwIfAborted();
    const job = JSON.parse(Buffer.from(jobId, "base64url").toString()) as StandInJob;
    const url = `https://jobs.example.com/jobs/${jobId.slice(-12)}`;
    if (this.#now() - job.submittedAt < job.durationMs) return { state: "running", url };
    if (job.message === "fail") return { state: "failed", url, error: 'the stand-in fails every "fail" job' };
    return {
      state: "succeeded",
      url,
      result: Array.from({ length: job.repeat }, () => job.message).join(" "),
    };
  }

  async cancel(_jobId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
  }
}
