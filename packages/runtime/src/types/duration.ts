import type { Duration } from "../gen/google/protobuf/duration.js";
import type { Timestamp } from "../gen/google/protobuf/timestamp.js";
import { isPreciseDate, millisecondTimestamp, PreciseDate } from "./precise-date.js";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3, // micro sign
  "\u03bcs": 1e-3, // Greek mu: Go accepts both spellings
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)`;
// Longest units first, so that `ms` is not read as `m` followed by junk.
const GO_UNITS = "ns|us|\u00b5s|\u03bcs|ms|s|m|h";
const FLAG_UNITS = `${GO_UNITS}|d`;

/** Options of {@link parseDuration} and {@link formatDuration}. */
export interface DurationSyntaxOptions {
  /**
   * - `"flag"`: how the CLI's flags and task timeouts are written: Go-style parts plus a `d` (day)
   *   unit, and a bare number means seconds (`"90"` is 90 s); formatted in the shortest form
   *   (`1h30m`, `1.5s`).
   * - `"go"`: Go's `time.ParseDuration` and `Duration.String()`, as FlytePropeller's config is read and
   *   its messages are written: every number needs a unit except a lone `0`, no `d`; formatted with
   *   every smaller unit once a larger one appears (`1h0m0s`) and milliseconds below a second (`250ms`).
   *
   * @default "flag"
   */
  readonly syntax?: "flag" | "go";
}

/**
 * Parses a duration into milliseconds.
 *
 * Accepts strings made of `<number><unit>` parts (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, and `d` unless
 * the syntax is `"go"`), e.g. `10s`, `5m`, `1h30m`, `1.5h`, `250ms`, with an optional leading sign. A
 * bare number means seconds, matching how `timeout` is given in seconds, except in the `"go"` syntax
 * where only `0` may stand alone.
 *
 * @returns the duration in milliseconds, or `undefined` if the text is not a duration.
 */
export function parseDuration(text: string, options: DurationSyntaxOptions = {}): number | undefined {
  const go = options.syntax === "go";
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (new RegExp(`^[+-]?${NUMBER}$`).test(trimmed)) {
    if (!go) return Number(trimmed) * 1000;
    // time.ParseDuration accepts a unitless number only when it is zero.
    return /^[+-]?0$/.test(trimmed) ? 0 : undefined;
  }
  const units = go ? GO_UNITS : FLAG_UNITS;
  const match = new RegExp(`^([+-]?)((?:${NUMBER}(?:${units}))+)$`).exec(trimmed);
  if (!match) return undefined;
  const sign = match[1] === "-" ? -1 : 1;
  let total = 0;
  for (const part of (match[2] ?? "").matchAll(new RegExp(`(${NUMBER})(${units})`, "g"))) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/**
 * Formats milliseconds: in the shortest `1h2m3.5s` form (used by `describe` output and messages), or
 * as Go's `Duration.String()` writes it with `{ syntax: "go" }` (`1h0m0s`, `1m30s`, `250ms`).
 */
export function formatDuration(ms: number, options: DurationSyntaxOptions = {}): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  if (options.syntax === "go" && rest < 1000) {
    // Below a second Go picks the largest unit that keeps a whole part: ms, µs or ns.
    if (rest >= 1) return `${sign}${Number(rest.toFixed(6))}ms`;
    if (rest >= 1e-3) return `${sign}${Number((rest * 1e3).toFixed(3))}\u00b5s`;
    return `${sign}${Math.round(rest * 1e6)}ns`;
  }
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  if (options.syntax === "go") {
    const s = Number((rest / 1000).toFixed(9));
    return `${sign}${hours ? `${hours}h` : ""}${hours || minutes ? `${minutes}m` : ""}${s}s`;
  }
  const seconds = Number((rest / 1000).toFixed(6));
  let out = sign;
  if (hours) out += `${hours}h`;
  if (minutes) out += `${minutes}m`;
  if (seconds) out += `${seconds}s`;
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
