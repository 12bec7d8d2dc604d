import type { ExecuteTaskSyncResponse } from "../gen/flyteidl/admin/agent.js";
import { phaseName } from "../core/phase.js";
import { CACHE_WORKERS, RESYNC_INTERVAL_MS } from "./defaults.js";
import { FailureCode, goRpcError, SYNC_NO_HEADER, syncRecvFailed } from "./messages.js";
import { isTerminal, mapResource, type PhaseOutcome } from "./status.js";

/** What Propeller's one `Recv()` on the ExecuteTaskSync stream got (`agent/plugin.go:228-247`). */
export type SyncAnswer =
  | { readonly kind: "message"; readonly response: ExecuteTaskSyncResponse }
  /** The server ended the stream OK without a message: `Recv` returns io.EOF. */
  | { readonly kind: "eof" }
  /** The stream failed (deadline included) before a message arrived. */
  | { readonly kind: "error"; readonly code: number; readonly details: string };

/** Propeller's verdict on a sync answer. */
export type SyncVerdict =
  /** The create failed: a retryable `TaskFailedWithError` that costs a retry (`W/launcher.go:16-19`). */
  | { readonly kind: "create-failed"; readonly code: string; readonly message: string }
  /**
   * A non-terminal phase: Propeller caches a state without ResourceMeta, shows the task Queued
   * "job submitted" forever, and each resync tick a cache worker panics on it and is never restarted.
   */
  | { readonly kind: "stuck"; readonly outcome: PhaseOutcome; readonly message: string }
  | { readonly kind: "outcome"; readonly outcome: PhaseOutcome };

/** What a non-terminal sync answer does to a real Propeller. */
export function syncNonTerminalMessage(phase: string): string {
  const minutes = Math.round((CACHE_WORKERS * RESYNC_INTERVAL_MS) / 60_000);
  return (
    `the sync agent answered the non-terminal phase ${phase}. FlytePropeller never asks a sync agent again: ` +
    `the task stays Queued ("job submitted") forever, and on every resync tick (${RESYNC_INTERVAL_MS / 1000} s) one of its ` +
    `${CACHE_WORKERS} cache workers panics on the task's missing resource_meta and is not restarted, so after about ` +
    `${minutes} minutes that FlytePropeller polls no agent task at all. Return a terminal phase from a sync agent`
  );
}

/**
 * The outcome of one ExecuteTaskSync answer as Propeller sees it: zero messages or a stream error →
 * a failed (retryable) create; a first message without header → "expected header…" (retryable); a
 * header without resource → an empty Resource, read with the sync wrapper (no `state`): a retryable
 * failure; `state` is never read on this path.
 */
export function syncVerdict(answer: SyncAnswer): SyncVerdict {
  const failed = (message: string): SyncVerdict => ({
    kind: "create-failed",
    code: FailureCode.TaskFailedWithError,
    message,
  });
  if (answer.kind === "eof") return failed(syncRecvFailed("EOF"));
  if (answer.kind === "error") return failed(syncRecvFailed(goRpcError(answer.code, answer.details)));
  const header = answer.response.header;
  if (!header) return failed(SYNC_NO_HEADER);
  const outcome = mapResource(header.resource, "sync");
  if (outcome.kind === "pending" || outcome.kind === "running") {
    return { kind: "stuck", outcome, message: syncNonTerminalMessage(phaseName(outcome.phase)) };
  }
  return { kind: "outcome", outcome };
}

export { isTerminal };
