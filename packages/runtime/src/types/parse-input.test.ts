import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TypeTransformError } from "./errors.js";
import { flyte } from "./flyte-schemas.js";
import type { PreciseDate } from "./precise-date.js";
import { parseInputString } from "./parse-input.js";

describe("parseInputString", () => {
  it("parses ints, int64s and floats", () => {
    expect(parseInputString(z.int(), "10", "n")).toBe(10);
    expect(parseInputString(z.int(), "-3", "n")).toBe(-3);
    expect(parseInputString(z.bigint(), "9223372036854775807", "n")).toBe(9223372036854775807n);
    expect(parseInputString(z.number(), "1.5e3", "x")).toBe(1500);
  });

  it("rejects text that is not a number naming the input", () => {
    expect(() => parseInputString(z.int(), "1.5", "rows")).toThrow('input "rows": expected int, got "1.5"');
    expect(() => parseInputString(z.number(), "abc", "x")).toThrow(TypeTransformError);
    expect(() => parseInputString(z.int(), "99999999999999999", "rows")).toThrow(TypeTransformError);
  });

  it.each([
    ["true", true],
    ["FALSE", false],
    ["1", true],
    ["0", false],
    ["yes", true],
    ["no", false],
  ])("parses the boolean %s", (raw, value) => {
    expect(parseInputString(z.boolean(), raw, "flag")).toBe(value);
  });

  it("rejects a word that is not a boolean", () => {
    expect(() => parseInputString(z.boolean(), "maybe", "flag")).toThrow(/expected bool/);
  });

  it("parses ISO datetimes and duration strings", () => {
    expect(parseInputString(z.date(), "2024-05-01T00:00:00Z", "d").toISOString()).toBe(
      "2024-05-01T00:00:00.000Z",
    );
    expect(() => parseInputString(z.date(), "yesterday-ish", "d")).toThrow(/expected datetime/);
    expect(parseInputString(flyte.duration(), "10s", "t")).toBe(10_000);
    expect(parseInputString(flyte.duration(), "5m", "t")).toBe(300_000);
    expect(parseInputString(flyte.duration(), "90", "t")).toBe(90_000);
  });

  it("parses lists, maps and objects from JSON with typed items", () => {
    expect(parseInputString(z.array(z.int()), "[1, 2, 3]", "xs")).toEqual([1, 2, 3]);
    expect(parseInputString(z.record(z.string(), z.bigint()), '{"a": 1}', "m")).toEqual({ a: 1n });
    expect(parseInputString(z.array(z.date()), '["2024-01-01T00:00:00Z"]', "ds")[0]).toBeInstanceOf(Date);
    expect(parseInputString(z.object({ a: z.string() }), '{"a":"b"}', "o")).toEqual({ a: "b" });
    expect(() => parseInputString(z.array(z.int()), "[1,", "xs")).toThrow(/as JSON/);
    expect(() => parseInputString(z.array(z.int()), '[1, "x"]', "xs")).toThrow('input "xs[1]"');
  });

  it("accepts enum values and rejects others", () => {
    const Size = z.enum(["small", "large"]);
    expect(parseInputString(Size, "small", "size")).toBe("small");
    expect(() => parseInputString(Size, "huge", "size")).toThrow('expected one of small, large, got "huge"');
  });

  it("reads none, null or an empty string as no value for an optional", () => {
    expect(parseInputString(z.int().optional(), "none", "n")).toBeUndefined();
    expect(parseInputString(z.int().nullable(), "", "n")).toBeNull();
    expect(parseInputString(z.int().optional(), "4", "n")).toBe(4);
  });

  it("tries union variants in order", () => {
    const schema = z.union([z.int(), z.string()]);
    expect(parseInputString(schema, "4", "v")).toBe(4);
    expect(parseInputString(schema, "four", "v")).toBe("four");
  });

  it("keeps URIs and makes local paths absolute for files and datasets", () => {
    expect(parseInputString(flyte.file(), "s3://b/k.csv", "f")).toEqual({ uri: "s3://b/k.csv" });
    expect(parseInputString(flyte.directory(), "data/in", "d", { cwd: "/tmp/x" })).toEqual({
      uri: resolve("/tmp/x", "data/in"),
    });
    expect(parseInputString(flyte.structuredDataset(), "/abs/t.parquet", "t")).toEqual({
      uri: "/abs/t.parquet",
    });
  });

  it("keeps every fractional digit of an ISO datetime, also inside an object given as JSON", () => {
    const at = parseInputString(z.date(), "2024-05-01T12:00:00.123456Z", "at") as PreciseDate;
    expect(at.toPreciseISOString()).toBe("2024-05-01T12:00:00.123456Z");
    const obj = parseInputString(
      z.object({ when: z.date(), id: z.bigint() }),
      '{"when": "2024-05-01T12:00:00.5", "id": 5}',
      "o",
    );
    expect(obj).toEqual({ when: new Date("2024-05-01T12:00:00.500Z"), id: 5n });
  });

  it("applies schema refinements", () => {
    expect(() => parseInputString(z.int().min(1), "0", "rows")).toThrow(/rows/);
  });
});
