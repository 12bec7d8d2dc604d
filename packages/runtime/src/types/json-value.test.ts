import { describe, expect, it } from "vitest";
import { toJsonValue } from "./json-value.js";

describe("toJsonValue", () => {
  it("refuses NaN and Infinity, naming the field, instead of turning them into null", () => {
    expect(() => toJsonValue({ a: [1, Number.NaN] }, { path: "out", label: "output" })).toThrow(
      'output "out.a[1]": JSON cannot hold the number NaN',
    );
    expect(() => toJsonValue({ x: Number.POSITIVE_INFINITY })).toThrow(/value\.x.*Infinity/);
  });

  it("turns dates into ISO strings, drops undefined fields and nulls undefined array items", () => {
    expect(toJsonValue({ d: new Date(0), u: undefined, l: [undefined, "x"] })).toEqual({
      d: "1970-01-01T00:00:00.000Z",
      l: [null, "x"],
    });
  });

  it("keeps bigints or turns safe ones into numbers, refusing unsafe ones", () => {
    expect(toJsonValue({ n: 2n ** 63n - 1n }, { bigint: "keep" })).toEqual({ n: 2n ** 63n - 1n });
    expect(toJsonValue({ n: 42n })).toEqual({ n: 42 });
    expect(toJsonValue({ n: 2n ** 64n }, { bigint: "string" })).toEqual({ n: "18446744073709551616" });
    expect(() => toJsonValue({ n: 2n ** 60n })).toThrow(/value\.n.*1152921504606846976n exactly/);
  });

  it("writes bytes as base64 only when asked, and refuses class instances", () => {
    expect(toJsonValue(Buffer.from("hi"), { bytes: "base64" })).toBe("aGk=");
    expect(() => toJsonValue({ b: Buffer.from("hi") })).toThrow(/value\.b.*bytes/);
    expect(() => toJsonValue({ m: new Map() })).toThrow(/value\.m/);
  });
});
