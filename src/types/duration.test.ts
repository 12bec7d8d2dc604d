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
