import { ACTIVE_DEADLINE_FACTOR } from "./defaults.js";
import { formatDuration } from "../types/duration.js";
import { activeTimeoutExpired, FailureCode, timeoutExpired } from "./messages.js";

/** The two deadlines a task `timeout` gives a node (`flytepropeller/pkg/controller/nodes/executor.go:862-881`). */
export interface TaskDeadlines {
  /** Per attempt, from the attempt's start: the attempt is aborted and fails retryably. */
  readonly executionDeadlineMs: number;
  /** From first queueing, over all attempts: the node fails, not retryable. */
  readonly activeDeadlineMs: number;
}

/** The deadlines of a task timeout, or undefined for none (`compiler/transformers/k8s/node.go:78-82`). */
export function taskDeadlines(timeoutMs: number | undefined): TaskDeadlines | undefined {
  if (timeoutMs === undefined || timeoutMs <= 0) return undefined;
  return { executionDeadlineMs: timeoutMs, activeDeadlineMs: timeoutMs * ACTIVE_DEADLINE_FACTOR };
}

/** Which deadline, if any, has passed at `now`. The active deadline is checked first, as Propeller does. */
export function expiredDeadline(
  d: TaskDeadlines | undefined,
  now: number,
  queuedAt: number,
  attemptStartedAt: number,
):
  | { readonly kind: "active"; readonly code: string; readonly message: string; readonly retryable: false }
  | { readonly kind: "execution"; readonly code: string; readonly message: string; readonly retryable: true }
  | undefined {
  if (!d) return undefined;
  if (now - queuedAt >= d.activeDeadlineMs) {
    return {
      kind: "active",
      code: FailureCode.TimedOut,
      message: activeTimeoutExpired(formatDuration(d.activeDeadlineMs, { syntax: "go" })),
      retryable: false,
    };
  }
  if (now - attemptStartedAt >= d.executionDeadlineMs) {
    return {
      kind: "execution",
      code: FailureCode.TimeoutExpired,
      message: timeoutExpired(formatDuration(d.executionDeadlineMs, { syntax: "go" })),
      retryable: true,
    };
  }
  return undefined;
}

/** Milliseconds until the next deadline at `now` (Infinity without deadlines). */
export function untilNextDeadline(
  d: TaskDeadlines | undefined,
  now: number,
  queuedAt: number,
  attemptStartedAt: number,
): number {
  if (!d) return Infinity;
  return Math.max(
    0,
    Math.min(queuedAt + d.activeDeadlineMs - now, attemptStartedAt + d.executionDeadlineMs - now),
  );
}
