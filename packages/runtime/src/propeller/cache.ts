import { MAX_SYSTEM_FAILURES } from "./defaults.js";
import { FailureCode } from "./messages.js";

/**
 * The GetTask failure budget of one attempt, as FlytePropeller's AutoRefreshCache keeps it
 * (`pluginmachinery/internal/webapi/cache.go:99-128`): every GetTask error increments
 * `SyncFailureCount`, which nothing resets (not even a later success); once it exceeds
 * `maxSystemFailures` the item is marked a system failure and never polled again. A new attempt is a
 * new cache item, so the count starts over.
 */
export class SyncFailureCount {
  private count = 0;
  /** The message of the last error (the cache item's ErrorMessage). */
  lastError = "";

  constructor(readonly maxSystemFailures: number = MAX_SYSTEM_FAILURES) {}

  /** Errors so far. */
  get failures(): number {
    return this.count;
  }

  /** Errors Propeller allows before it stops polling: `maxSystemFailures + 1`. */
  get budget(): number {
    return this.maxSystemFailures + 1;
  }

  /** Records one GetTask error. */
  recordError(message: string): void {
    this.count += 1;
    this.lastError = message;
  }

  /** True once the cache stops polling (`SyncFailureCount > maxSystemFailures`). */
  get exhausted(): boolean {
    return this.count > this.maxSystemFailures;
  }
}

/**
 * What a spent budget does (`pluginmachinery/internal/webapi/monitor.go:33-72`): with no Resource
 * ever seen, the attempt fails permanently with AutoRefreshCacheFailed and the last error; with one
 * seen, Status keeps reading the stale Resource, so the task hangs in its last phase.
 */
export function budgetSpentOutcome(
  resourceSeen: boolean,
  lastError: string,
): { readonly kind: "failed"; readonly code: string; readonly message: string } | { readonly kind: "hang" } {
  return resourceSeen
    ? { kind: "hang" }
    : { kind: "failed", code: FailureCode.AutoRefreshCacheFailed, message: lastError };
}

/**
 * Waits before the n-th retry (1-based) of a failed GetTask when polling faster than Propeller: 1, 2,
 * 4, 8, 16 s. Propeller retries on its 30 s resync tick, so its six allowed errors span minutes; this
 * pace makes them span 31 s, so an agent that restarts within 20 s survives locally as it does on a
 * cluster, while a dead agent still fails the attempt in half a minute.
 */
export function fastErrorBackoffMs(failures: number, baseMs = 1_000): number {
  return baseMs * 2 ** Math.max(0, failures - 1);
}
