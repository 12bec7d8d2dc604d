import type { Timestamp } from "../gen/google/protobuf/timestamp.js";

const preciseDateBrand = Symbol.for("flyte-agent.precise-date");

/** True for a {@link PreciseDate}, even one made by another copy of the library. */
export function isPreciseDate(value: unknown): value is PreciseDate {
  return value instanceof Date && (value as unknown as Record<symbol, unknown>)[preciseDateBrand] === true;
}

/**
 * A `Date` that also knows the exact instant it was decoded from: a `google.protobuf.Timestamp` has
 * nanoseconds and flytekit writes microseconds, while a JS `Date` holds milliseconds. Datetime inputs
 * arrive as `PreciseDate`s, so an agent that needs the sub-millisecond part reads `nanos` (or
 * {@link PreciseDate.toTimestamp}), and one that echoes the value writes back exactly what it got.
 * Everything else sees a plain `Date` (`z.date()` accepts it, `getTime()` is in milliseconds).
 *
 * Once the `Date` is changed (`setTime`, `setSeconds`, ...), the stored instant no longer matches and
 * the millisecond value is what is written.
 */
export class PreciseDate extends Date {
  /** Recognised across copies of the library (an agent package may bring its own). */
  readonly [preciseDateBrand] = true;
  readonly #seconds: bigint;
  readonly #nanos: number;

  /** @param timestamp the exact instant; `nanos` is taken modulo a second. */
  constructor(timestamp: Timestamp) {
    const extra = Math.floor(timestamp.nanos / 1e9);
    const seconds = timestamp.seconds + BigInt(extra);
    const nanos = timestamp.nanos - extra * 1e9;
    super(Number(seconds) * 1000 + Math.floor(nanos / 1e6));
    this.#seconds = seconds;
    this.#nanos = nanos;
  }

  /** Nanoseconds within the second (0 to 999 999 999), beyond what `getMilliseconds()` shows. */
  get nanos(): number {
    return this.#nanos;
  }

  /** Whole seconds since the epoch. */
  get seconds(): bigint {
    return this.#seconds;
  }

  /** True while the `Date` still shows the instant it was made with. */
  get isExact(): boolean {
    return this.getTime() === Number(this.#seconds) * 1000 + Math.floor(this.#nanos / 1e6);
  }

  /** The exact `Timestamp` (or the millisecond one once the `Date` was changed). */
  toTimestamp(): Timestamp {
    if (this.isExact) return { seconds: this.#seconds, nanos: this.#nanos };
    return millisecondTimestamp(this.getTime());
  }

  /** ISO 8601 in UTC with all the digits there are: `2024-05-01T12:00:00.123456Z`. */
  toPreciseISOString(): string {
    const { seconds, nanos } = this.toTimestamp();
    const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
    return `${base}${fraction(nanos, 9)}Z`;
  }
}

/** The `Timestamp` of a millisecond epoch time. */
export function millisecondTimestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** `.123456` for the nanos, with at most `digits` digits and no trailing zeros; "" for none. */
function fraction(nanos: number, digits: 6 | 9): string {
  const text = String(nanos).padStart(9, "0").slice(0, digits).replace(/0+$/, "");
  return text ? `.${text}` : "";
}

/**
 * A datetime as Python's `datetime.isoformat()` writes an aware UTC datetime (what mashumaro puts in
 * a dataclass's msgpack): microseconds when there are any, `+00:00` for UTC.
 */
export function pythonIsoFormat(date: Date): string {
  const { seconds, nanos } = isPreciseDate(date) ? date.toTimestamp() : millisecondTimestamp(date.getTime());
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const micros = Math.floor(nanos / 1000);
  return `${base}${micros ? `.${String(micros).padStart(6, "0")}` : ""}+00:00`;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses an ISO 8601 datetime keeping every fractional digit (up to nanoseconds). A datetime without
 * an offset is UTC, as flytekit treats naive datetimes. Undefined when the text is not one.
 */
export function parsePreciseIso(text: string): PreciseDate | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  if (Number.isNaN(ms)) return undefined;
  let offsetSeconds = 0;
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetSeconds = sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60);
  }
  const nanos = Number((frac ?? "").padEnd(9, "0"));
  return new PreciseDate({ seconds: BigInt(ms / 1000 - offsetSeconds), nanos });
}
