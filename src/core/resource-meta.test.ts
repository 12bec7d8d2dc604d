import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonResourceMetaCodec, pythonJsonDumps } from "./resource-meta.js";

const samples: unknown[] = [
  { job_id: "abc-123", region: "us-east1" },
  { a: 1, b: [1.5, 1e-7, 1e16, 123456789.125, -0.5, 2.5e-5], c: { d: null, e: true, f: false } },
  { text: 'é☃😀"\\\n\r\t\b\f\u0001\u007f/', nested: [[], {}, [{ x: "ü" }]] },
  { big: 9007199254740993n, neg: -42, zero: 0 },
  [],
  "plain",
];

// What Python 3's json.dumps prints for the samples above (checked against a real interpreter below).
const expected = [
  '{"job_id": "abc-123", "region": "us-east1"}',
  '{"a": 1, "b": [1.5, 1e-07, 1e+16, 123456789.125, -0.5, 2.5e-05], "c": {"d": null, "e": true, "f": false}}',
  '{"text": "\\u00e9\\u2603\\ud83d\\ude00\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u007f/", "nested": [[], {}, [{"x": "\\u00fc"}]]}',
  '{"big": 9007199254740993, "neg": -42, "zero": 0}',
  "[]",
  '"plain"',
];

function hasPython(): boolean {
  try {
    execFileSync("python3", ["-c", "pass"]);
    return true;
  } catch {
    return false;
  }
}

describe("pythonJsonDumps", () => {
  it("writes the same text as Python's json.dumps with default settings", () => {
    samples.forEach((s, i) => expect(pythonJsonDumps(s)).toBe(expected[i]));
  });

  it.runIf(hasPython())("matches a real Python interpreter byte for byte", () => {
    const script = "import json,sys\nfor line in sys.stdin:\n    print(json.dumps(json.loads(line)))";
    // JSON.stringify would lose the bigint; feed Python our own text, which it must reproduce exactly.
    const input = samples.map((s) => pythonJsonDumps(s)).join("\n") + "\n";
    const out = execFileSync("python3", ["-c", script], { input }).toString("utf8").trimEnd().split("\n");
    // Python re-reads 1e+16 as a float and prints "1e+16"; everything else must be identical.
    expect(out).toEqual(expected);
  });

  it("refuses values JSON cannot hold, naming the field", () => {
    expect(() => pythonJsonDumps({ a: { b: Number.NaN } })).toThrow(/\$\.a\.b/);
    expect(() => pythonJsonDumps({ f: () => 1 })).toThrow(/\$\.f is a function/);
  });
});

describe("jsonResourceMetaCodec", () => {
  const Meta = z.object({ job_id: z.string(), region: z.string(), attempt: z.number().int() });

  it("round-trips metadata and writes fields in schema order", () => {
    const codec = jsonResourceMetaCodec(Meta);
    const bytes = codec.encode({ region: "eu", attempt: 2, job_id: "j-1" });
    expect(Buffer.from(bytes).toString()).toBe('{"job_id": "j-1", "region": "eu", "attempt": 2}');
    expect(codec.decode(bytes)).toEqual({ job_id: "j-1", region: "eu", attempt: 2 });
  });

  it("reads bytes a Python agent wrote, including non-ASCII escapes", () => {
    const codec = jsonResourceMetaCodec(Meta);
    const py = Buffer.from('{"job_id": "caf\\u00e9", "region": "\\u6771\\u4eac", "attempt": 1}');
    const meta = codec.decode(py);
    expect(meta).toEqual({ job_id: "café", region: "東京", attempt: 1 });
    expect(Buffer.compare(Buffer.from(codec.encode(meta)), py)).toBe(0);
  });

  it("tolerates keys added by a newer version of the agent", () => {
    const codec = jsonResourceMetaCodec(Meta);
    const meta = codec.decode(
      Buffer.from('{"job_id": "x", "region": "r", "attempt": 0, "added_later": [1]}'),
    );
    expect(meta).toEqual({ job_id: "x", region: "r", attempt: 0 });
  });

  it("rejects metadata that does not match the schema with a clear error", () => {
    const codec = jsonResourceMetaCodec(Meta);
    expect(() => codec.decode(Buffer.from('{"job_id": 5, "region": "r", "attempt": 0}'))).toThrow(
      /resource_meta does not match the agent's metadata schema: job_id/,
    );
    expect(() => codec.decode(Buffer.from("not json"))).toThrow(/resource_meta is not valid JSON/);
  });

  it("passes any JSON through without a schema", () => {
    const codec = jsonResourceMetaCodec();
    expect(codec.decode(codec.encode({ any: ["thing", 1] }))).toEqual({ any: ["thing", 1] });
  });
});
