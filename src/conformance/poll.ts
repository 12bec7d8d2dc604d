import { type Answer, RpcError } from "../client/agent-client.js";
import type { Clock } from "@flyte-agent/runtime/internal/core/clock.js";
import { phaseName } from "@flyte-agent/runtime/internal/core/phase.js";
import type { Resource } from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import { SyncFailureCount } from "@flyte-agent/runtime/internal/propeller/cache.js";
import { getFailed, goRpcError } from "@flyte-agent/runtime/internal/propeller/messages.js";
import { FLYTE1_PROFILE, type PropellerProfile } from "@flyte-agent/runtime/internal/propeller/profile.js";
import { emptyResource, mapResource } from "@flyte-agent/runtime/internal/propeller/status.js";
import { failureText, ms, timing } from "./measure.js";
import type { CheckStatus, ConformanceRuleId } from "./rules.js";

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

/**
 * The two verdicts both protocols draw from polling: the slowest GetTask against its deadline
 * (`gets` holds every timed GetTask of the check), and whether the job reached a terminal phase
 * (`polled`, the job's own polling; `errorsNote` says how its failed calls count).
 */
export function recordPolling(
  record: (id: ConformanceRuleId, status: CheckStatus, evidence: string) => void,
  ids: { readonly deadline: ConformanceRuleId; readonly terminal: ConformanceRuleId },
  polled: Polled<unknown>,
  gets: readonly { readonly ms: number }[],
  deadlineMs: number,
  errorsNote: (errors: number) => string,
): void {
  const slowest = Math.max(0, ...gets.map((g) => g.ms));
  record(
    ids.deadline,
    gets.length === 0 ? "skip" : timing(slowest, deadlineMs),
    gets.length === 0
      ? `every GetTask errored, so no answer time to judge (see ${ids.terminal})`
      : `${gets.length} calls, slowest ${ms(slowest)} (deadline ${deadlineMs / 1000} s)`,
  );
  record(
    ids.terminal,
    polled.final ? "pass" : "fail",
    polled.final
      ? `${phaseName(polled.final.phase)} after ${polled.answers.length} GetTask call(s)${polled.errors ? errorsNote(polled.errors) : ""} in ${ms(polled.elapsedMs)}`
      : polled.error!,
  );
}
