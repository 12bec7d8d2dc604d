import { type Answer, RpcError } from "../client/agent-client.js";
import type { Clock } from "@flyte-agent/runtime/internal/core/clock.js";
import { phaseName } from "@flyte-agent/runtime/internal/core/phase.js";
import type { Resource } from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import { SyncFailureCount } from "@flyte-agent/runtime/internal/propeller/cache.js";
import { getFailed, goRpcError } from "@flyte-agent/runtime/internal/propeller/messages.js";
import { FLYTE1_PROFILE, type PropellerProfile } from "@flyte-agent/runtime/internal/propeller/profile.js";
import { emptyResource, mapResource } from "@flyte-agent/runtime/internal/propeller/status.js";
import { failureText, ms } from "./measure.js";

/** What polling GetTask until the task ends gave. */
export interface Polled<T> {
  readonly answers: Answer<T>[];
  /** The terminal Resource (as Flyte 1's message), when one came. */
  readonly final: Resource | undefined;
  /** Why polling ended without a terminal Resource. */
  readonly error: string | undefined;
  readonly elapsedMs: number;
  /** GetTask calls that errored. */
  readonly errors: number;
}

/** What {@link pollUntilTerminal} needs: the call, how to read its answer, and the executor's rules. */
export interface PollOptions<T> {
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  readonly taskTimeoutMs: number;
  readonly maxSystemFailures: number;
  /** One GetTask; throws on an error status. */
  getTask(): Promise<Answer<T>>;
  /** The answer's Resource as Flyte 1's message (undefined when the answer has none). */
  resourceOf(answer: Answer<T>): Resource | undefined;
  /** @default FLYTE1_PROFILE */
  readonly profile?: PropellerProfile;
  /** How the executor words the failure budget running out. */
  exhausted(failures: number, answers: readonly Answer<T>[], lastError: string): string;
}

/**
 * GetTask until a terminal phase (success or failure as the profile reads it; a status error only
 * fails the round), the executor's failure budget (errors counted as its SyncFailureCount: never
 * reset, not even by a success) or the task timeout, on the given clock. Shared by Flyte 1's and
 * Flyte 2's checks: only the call, the message and the wording differ.
 */
export async function pollUntilTerminal<T>(options: PollOptions<T>): Promise<Polled<T>> {
  const { clock } = options;
  const profile = options.profile ?? FLYTE1_PROFILE;
  const answers: Answer<T>[] = [];
  const started = clock.now();
  const never = new AbortController().signal;
  const failures = new SyncFailureCount(options.maxSystemFailures);
  let lastError: string | undefined;
  for (;;) {
    try {
      const res = await options.getTask();
      answers.push(res);
      // A response without a Resource reads as an empty one: a retryable failure.
      const resource = options.resourceOf(res);
      const kind = mapResource(resource, "async", profile).kind;
      if (kind === "succeeded" || kind === "failed")
        return {
          answers,
          final: resource ?? emptyResource(),
          error: undefined,
          elapsedMs: clock.now() - started,
          errors: failures.failures,
        };
    } catch (err) {
      lastError = failureText(err);
      failures.recordError(
        getFailed(err instanceof RpcError ? goRpcError(err.code, err.details) : String(err), profile.noun),
      );
      if (failures.exhausted)
        return {
          answers,
          final: undefined,
          error: options.exhausted(failures.failures, answers, lastError),
          elapsedMs: clock.now() - started,
          errors: failures.failures,
        };
    }
    const elapsed = clock.now() - started;
    if (elapsed >= options.taskTimeoutMs) {
      const last = answers.at(-1);
      const resource = last ? options.resourceOf(last) : undefined;
      return {
        answers,
        final: undefined,
        error: `still ${resource ? phaseName(resource.phase) : "without an answer"} after ${ms(elapsed)}${lastError ? ` (last error: ${lastError})` : ""}`,
        elapsedMs: elapsed,
        errors: failures.failures,
      };
    }
    await clock.sleep(options.pollIntervalMs, never);
  }
}
