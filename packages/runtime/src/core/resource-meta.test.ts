import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonResourceMetaCodec, parsePythonJson, pythonJsonDumps } from "./resource-meta.js";

/** What Python 3's `json.dumps` writes for a dict of every awkward value (checked against a real one below). */
const PYTHON_WROTE =
  '{"max": 9223372036854775807, "min": -9223372036854775808, "p53": 9007199254740993, "two": 2.0, ' +
  '"e16": 1e+16, "tiny": 1e-07, "tenth": 0.1, "big": 1000000000000000000000000000000, "neg0": -0.0, ' +
  '"huge": 1.5e+300, "text": "caf\\u00e9 \\u6771\\u4eac \\ud83d\\ude00 \\"q\\" \\\\ \\n\\t/", ' +
  '"nested": {"b": [1, 2.0, {"c": null, "d": true, "e": false}], "10": "x", "2": "y", "": []}, ' +
  '"nan": NaN, "inf": Infinity, "ninf": -Infinity}';

const PYTHON_SOURCE =
  'd = {"max": 2**63-1, "min": -2**63, "p53": 2**53+1, "two": 2.0, "e16": 1e16, "tiny": 1e-7, "tenth": 0.1, ' +
  '"big": 10**30, "neg0": -0.0, "huge": 1.5e300, "text": "caf\\u00e9 \\u6771\\u4eac \\U0001F600 \\"q\\" \\\\ \\n\\t/", ' +
  '"nested": {"b": [1, 2.0, {"c": None, "d": True, "e": False}], "10": "x", "2": "y", "": []}, ' +
  '"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")}';

const python = ((): string | undefined => {
  try {
    execFileSync("/usr/bin/python3", ["-c", "pass"]);
    return "/usr/bin/python3";
  } catch {
    return undefined;
  }
})();

function py(code: string, input = ""): string {
  return execFileSync(python!, ["-c", `import json, sys\n${code}`], { input })
    .toString("utf8")
    .trimEnd();
}

describe("Python-exact resource_meta JSON", () => {
  it.runIf(python)("the corpus is what a real Python's json.dumps writes", () => {
    expect(py(`${PYTHON_SOURCE}\nprint(json.dumps(d))`)).toBe(PYTHON_WROTE);
  });

  it("reads Python's bytes exactly: integers of any size, floats, NaN, non-ASCII, nesting", () => {
    const v = parsePythonJson(PYTHON_WROTE) as Record<string, any>;
    expect(v.max).toBe(2n ** 63n - 1n);
    expect(v.min).toBe(-(2n ** 63n));
    expect(v.p53).toBe(2n ** 53n + 1n);
    expect(v.big).toBe(10n ** 30n);
    expect(v.two).toBe(2);
    expect(v.tenth).toBe(0.1);
    expect(Object.is(v.neg0, -0)).toBe(true);
    expect(v.text).toBe('café 東京 😀 "q" \\ \n\t/');
    expect(v.nan).toBeNaN();
    expect(v.ninf).toBe(Number.NEGATIVE_INFINITY);
    expect(v.nested.b[2]).toEqual({ c: null, d: true, e: false });
  });

  it("writes back the very bytes it read, without a schema and with one", () => {
    const bare = jsonResourceMetaCodec();
    const bytes = Buffer.from(PYTHON_WROTE);
    expect(Buffer.from(bare.encode(bare.decode(bytes))).toString()).toBe(PYTHON_WROTE);
    const Meta = z.object({
      max: z.bigint(),
      min: z.bigint(),
      p53: z.bigint(),
      two: z.number(),
      e16: z.number(),
      tiny: z.number(),
      tenth: z.number(),
      big: z.bigint(),
      neg0: z.number(),
      huge: z.number(),
      text: z.string(),
      nested: z.record(z.string(), z.unknown()),
      // zod's z.number() refuses NaN and infinities; fields that may hold them say so.
      nan: z.nan(),
      inf: z.unknown(),
      ninf: z.unknown(),
    });
    const typed = jsonResourceMetaCodec(Meta);
    const meta = typed.decode(bytes);
    expect(meta.max).toBe(2n ** 63n - 1n);
    expect(Buffer.compare(Buffer.from(typed.encode(meta)), bytes)).toBe(0);
    // The form survives the copies the schema makes (decode, then encode validates again).
    expect(Buffer.from(typed.encode(typed.decode(typed.encode(meta)))).toString()).toBe(PYTHON_WROTE);
  });

  it("writes what a Python dataclass would: 2.0 for a float field, 2 for an int, exact bigints", () => {
    const codec = jsonResourceMetaCodec(
      z.object({
        ratio: z.float64(),
        count: z.int(),
        id: z.bigint(),
        list: z.array(z.float64()),
        at: z.number(),
      }),
    );
    const text = Buffer.from(
      codec.encode({ ratio: 2, count: 2, id: 2n ** 63n - 1n, list: [1, 0.5], at: 1_700_000_001_000 }),
    ).toString();
    // A plain z.number() holding an integral value is an int: agents use it for integers too.
    expect(text).toBe(
      '{"ratio": 2.0, "count": 2, "id": 9223372036854775807, "list": [1.0, 0.5], "at": 1700000001000}',
    );
    expect(pythonJsonDumps({ n: 1e16, f: 1e-7, neg: -0 })).toBe(
      '{"n": 10000000000000000, "f": 1e-07, "neg": 0}',
    );
  });

  it.runIf(python)("Python reads what it writes with the same types", () => {
    const codec = jsonResourceMetaCodec(z.object({ ratio: z.float64(), count: z.int(), id: z.bigint() }));
    const bytes = Buffer.from(codec.encode({ ratio: 2, count: 2, id: 2n ** 63n - 1n }));
    const out = py(
      "d = json.loads(sys.stdin.read())\n" +
        "print(type(d['ratio']).__name__, type(d['count']).__name__, d['id'] == 2**63-1, json.dumps(d))",
      bytes.toString(),
    );
    expect(out).toBe(`float int True ${bytes.toString()}`);
  });

  it("gives a z.bigint() field a bigint and refuses an integer a z.number() field cannot hold", () => {
    const codec = jsonResourceMetaCodec(z.object({ job: z.object({ id: z.bigint(), n: z.number() }) }));
    expect(codec.decode(Buffer.from('{"job": {"id": 5, "n": 1}}'))).toEqual({ job: { id: 5n, n: 1 } });
    expect(() => codec.decode(Buffer.from('{"job": {"id": 5, "n": 9007199254740993}}'))).toThrow(
      "resource_meta field job.n holds 9007199254740993, which a number cannot hold exactly; declare it z.bigint()",
    );
  });

  it("refuses nesting past Python's recursion limit (1000) with a resource-meta error, not a stack overflow", () => {
    expect(parsePythonJson("[".repeat(1000) + "]".repeat(1000))).toBeInstanceOf(Array);
    for (const deep of ["[".repeat(1001) + "]".repeat(1001), '{"a": '.repeat(200_000)]) {
      expect(() => parsePythonJson(deep)).toThrow(/nested deeper than 1000 arrays or objects/);
    }
  });

  it.runIf(python)(
    "reads and writes back number-free metas (the JSON.parse path) as Python does: duplicates, __proto__, key order",
    () => {
      const texts = [
        '{"job_id": "job-1", "url": "https://x/\\u00e9", "done": false, "err": null}',
        '{"a": "1", "b": {"c": ["x", true, null, {}]}, "a": "2"}',
        '{"__proto__": "p", "constructor": {"prototype": "q"}}',
        '{"z": "1", "10": "x", "2": "y"}',
        '["a", ["b"], {"c": "d"}]',
        '"just a string"',
      ];
      for (const text of texts) {
        const expected = py("print(json.dumps(json.loads(sys.stdin.read())))", text);
        expect(pythonJsonDumps(parsePythonJson(text))).toBe(expected);
      }
      const v = parsePythonJson('{"__proto__": {"polluted": "yes"}}') as Record<string, unknown>;
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it("refuses what Python refuses, with the offset of the first error, whichever path reads it", () => {
    expect(() => parsePythonJson('{"a": "b",}')).toThrow(
      /resource_meta is not valid JSON: expected a string key at offset 10/,
    );
    // A raw control character in a string (JSON.parse refuses it too; Python's strict loads as well).
    expect(() => parsePythonJson(`"raw${String.fromCharCode(1)}"`)).toThrow(
      /control character in a string at offset 5/,
    );
    expect(parsePythonJson(String.raw`"tab\there"`)).toBe("tab\there");
  });

  it("refuses values JSON cannot hold, naming the field", () => {
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
    expect(() => codec.decode(Buffer.from("not json"))).toThrow(
      /resource_meta is not valid JSON: unexpected token at offset 0/,
    );
    expect(() => codec.decode(Buffer.from('{"a": 1} x'))).toThrow(/extra data at offset 9/);
  });

  it("passes any JSON through without a schema", () => {
    const codec = jsonResourceMetaCodec();
    expect(codec.decode(codec.encode({ any: ["thing", 1] }))).toEqual({ any: ["thing", 1] });
  });
});
