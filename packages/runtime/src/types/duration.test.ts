import { describe, expect, it } from "vitest";
import { Duration } from "../gen/google/protobuf/duration.js";
import { durationToMs, formatDuration, msToDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["10s", 10_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
    ["2d", 172_800_000],
    ["-3s", -3000],
    ["45", 45_000],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "soon", "10 parsecs", "1x", "h"])("returns undefined for %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

// Go's time.ParseDuration and Duration.String() (src/time/format.go), as FlytePropeller reads its
// config and writes its timeout messages.
describe("the Go syntax", () => {
  const go = { syntax: "go" } as const;

  it.each([
    ["1m30s", 90_000],
    ["250ms", 250],
    ["0", 0],
    ["-0", 0],
    ["1.5h", 5_400_000],
    [".5s", 500],
    ["-3s", -3000],
    ["2\u00b5s", 0.002],
    ["2\u03bcs", 0.002],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text, go)).toBe(ms);
  });

  it.each(["5", "1.5", "2d", "", "s", "1m 30s"])("rejects %j, which the flag syntax may take", (text) => {
    expect(parseDuration(text, go)).toBeUndefined();
  });

  it("differs from the flag syntax only where Go does", () => {
    expect(parseDuration("5")).toBe(5000);
    expect(parseDuration("2d")).toBe(172_800_000);
  });

  it.each([
    [0, "0s"],
    [3000, "3s"],
    [90_000, "1m30s"],
    [3_600_000, "1h0m0s"],
    [5_400_500, "1h30m0.5s"],
    [250, "250ms"],
    [1.5, "1.5ms"],
    [0.0015, "1.5\u00b5s"],
    [0.000_002, "2ns"],
    [-1500, "-1.5s"],
  ])("formats %d ms as %s", (ms, text) => {
    expect(formatDuration(ms, go)).toBe(text);
  });

  it("writes what it reads", () => {
    for (const ms of [250, 3000, 90_000, 3_600_000, 5_400_500]) {
      expect(parseDuration(formatDuration(ms, go), go)).toBe(ms);
    }
  });
});

describe("protobuf durations", () => {
  it("round-trips milliseconds through Duration bytes with matching signs", () => {
    for (const ms of [0, 1, 1500, -1500, 3_600_000.5, 86_400_000 * 400]) {
      const d = Duration.decode(Duration.encode(msToDuration(ms)).finish());
      expect(Math.sign(Number(d.seconds)) * Math.sign(d.nanos)).not.toBe(-1);
      expect(durationToMs(d)).toBeCloseTo(ms, 6);
    }
  });

  it("formats milliseconds compactly", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(1500)).toBe("1.5s");
    expect(formatDuration(0)).toBe("0s");
  });
});
