import type { Duration } from "../gen/google/protobuf/duration.js";
import type { Timestamp } from "../gen/google/protobuf/timestamp.js";
import { isPreciseDate, millisecondTimestamp, PreciseDate } from "./precise-date.js";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a human duration into milliseconds.
 *
 * Accepts Go-style strings made of `<number><unit>` parts (`ns`, `us`, `ms`, `s`, `m`, `h`, `d`), e.g.
 * `10s`, `5m`, `1h30m`, `1.5h`, `250ms`, with an optional leading `-`. A bare number means seconds
 * (`"90"` is 90 000 ms), matching how `timeout` is given in seconds.
 *
 * @returns the duration in milliseconds, or `undefined` if the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(trimmed)) return Number(trimmed) * 1000;
  const match = /^([+-]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h|d))+)$/.exec(trimmed);
  if (!match) return undefined;
  const sign = match[1] === "-" ? -1 : 1;
  let total = 0;
  for (const part of (match[2] ?? "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/** Formats milliseconds in the shortest `1h2m3.5s` form (used by `describe` output and messages). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  let out = sign;
  if (hours) out += `${hours}h`;
  if (minutes) out += `${minutes}m`;
  if (seconds) out += `${Number(seconds.toFixed(6))}s`;
  return out;
}

/** Milliseconds (may be fractional or negative) → `google.protobuf.Duration` (seconds and nanos share a sign). */
export function msToDuration(ms: number): Duration {
  let seconds = Math.trunc(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  } else if (nanos <= -1e9) {
    seconds -= 1;
    nanos += 1e9;
  }
  return { seconds: BigInt(seconds), nanos };
}

/** `google.protobuf.Duration` → milliseconds (fractional when the duration has sub-millisecond nanos). */
export function durationToMs(duration: Duration): number {
  return Number(duration.seconds) * 1000 + duration.nanos / 1e6;
}

/**
 * A JS `Date` → `google.protobuf.Timestamp`: exact for a {@link PreciseDate} that was not changed,
 * millisecond precision for any other `Date`.
 */
export function dateToTimestamp(date: Date): Timestamp {
  return isPreciseDate(date) ? date.toTimestamp() : millisecondTimestamp(date.getTime());
}

/**
 * `google.protobuf.Timestamp` → a {@link PreciseDate}: a `Date` (milliseconds) that keeps the exact
 * nanoseconds for whoever asks, and for writing it back. Invalid if out of the `Date` range.
 */
export function timestampToDate(timestamp: Timestamp): PreciseDate {
  return new PreciseDate(timestamp);
}
