import { describe, expect, it } from "vitest";
import { dateToTimestamp, timestampToDate } from "./duration.js";
import { parsePreciseIso, PreciseDate, pythonIsoFormat } from "./precise-date.js";

describe("PreciseDate", () => {
  it("is a Date in milliseconds that keeps the nanoseconds of its Timestamp", () => {
    const d = timestampToDate({ seconds: 1_714_564_800n, nanos: 123_456_789 });
    expect(d).toBeInstanceOf(Date);
    expect(d.toISOString()).toBe("2024-05-01T12:00:00.123Z");
    expect(d.nanos).toBe(123_456_789);
    expect(d.toPreciseISOString()).toBe("2024-05-01T12:00:00.123456789Z");
    expect(dateToTimestamp(d)).toEqual({ seconds: 1_714_564_800n, nanos: 123_456_789 });
  });

  it("writes the millisecond value once the Date is changed", () => {
    const d = timestampToDate({ seconds: 10n, nanos: 5 });
    d.setTime(20_000);
    expect(d.isExact).toBe(false);
    expect(dateToTimestamp(d)).toEqual({ seconds: 20n, nanos: 0 });
  });

  it("handles instants before 1970", () => {
    const d = new PreciseDate({ seconds: -2n, nanos: 500_000_001 });
    expect(d.getTime()).toBe(-1500);
    expect(dateToTimestamp(d)).toEqual({ seconds: -2n, nanos: 500_000_001 });
  });

  it("parses ISO text with up to nine fractional digits; naive times are UTC", () => {
    expect(parsePreciseIso("2024-05-01T12:00:00.123456")?.toPreciseISOString()).toBe(
      "2024-05-01T12:00:00.123456Z",
    );
    expect(parsePreciseIso("2024-05-01T14:00:00.5+02:00")?.toPreciseISOString()).toBe(
      "2024-05-01T12:00:00.5Z",
    );
    expect(parsePreciseIso("2024-05-01T12:00:00Z")?.getTime()).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parsePreciseIso("yesterday")).toBeUndefined();
  });

  it("formats as Python's isoformat of an aware UTC datetime", () => {
    expect(pythonIsoFormat(new Date(Date.UTC(2024, 4, 1, 12)))).toBe("2024-05-01T12:00:00+00:00");
    expect(pythonIsoFormat(new PreciseDate({ seconds: 0n, nanos: 1_000 }))).toBe(
      "1970-01-01T00:00:00.000001+00:00",
    );
  });
});
