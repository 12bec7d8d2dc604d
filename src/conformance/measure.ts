import { RpcError } from "../client/agent-client.js";

/**
 * The deadline a probe call gets: long enough to see how late an answer over the executor's deadline
 * is (a minute for a deployment without deadlines).
 */
export const probeDeadline = (deadlineMs: number) => (deadlineMs > 0 ? deadlineMs * 2 : 60_000);

/** A duration for evidence: `1.2 ms`, `35 ms`. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** A size for evidence: `120 bytes`, `12.0 KiB`, `4.00 MiB`. */
export function bytes(n: number): string {
  if (n < 10_000) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** "Well within" a deadline: at most half of it; over half warns; over it fails. */
export function timing(tookMs: number, deadlineMs: number): "pass" | "warn" | "fail" {
  if (deadlineMs <= 0) return "pass";
  if (tookMs > deadlineMs) return "fail";
  if (tookMs > deadlineMs / 2) return "warn";
  return "pass";
}

/** A failed call as evidence: `NOT_FOUND: no such job after 1.2 ms`. */
export function failureText(err: unknown): string {
  if (err instanceof RpcError) return `${err.codeName}: ${err.details || "(no message)"} after ${ms(err.ms)}`;
  return (err as Error).message;
}

/** The gRPC status name of a failed call, or "" for other errors. */
export const codeOf = (err: unknown): string => (err instanceof RpcError ? err.codeName : "");
