import type { z } from "zod";
import { ErrorCode, FlyteAgentError } from "./errors.js";

/**
 * Turns an agent's resource metadata into the opaque `resource_meta` bytes FlytePropeller stores and
 * sends back on every GetTask/DeleteTask, and back again. Must be deterministic and must read what
 * older versions of the agent wrote.
 */
export interface ResourceMetaCodec<Meta> {
  encode(meta: Meta): Uint8Array;
  decode(bytes: Uint8Array): Meta;
}

/**
 * Serializes a JSON value exactly as Python's `json.dumps(value)` does with its defaults
 * (`", "` and `": "` separators, non-ASCII and control characters escaped as lowercase `\uXXXX`,
 * keys in insertion order). Integral numbers are written as integers; other numbers use Python's
 * `repr` rules for floats (`1e-07`, `1e+16`).
 * @throws FlyteAgentError for values JSON cannot hold (functions, symbols, NaN, Infinity).
 */
export function pythonJsonDumps(value: unknown): string {
  return dump(value, "$");
}

function dump(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return quote(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      return pythonFloat(value, path);
    case "object": {
      if (value instanceof Date) return quote(value.toISOString());
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => dump(v === undefined ? null : v, `${path}[${i}]`)).join(", ")}]`;
      }
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue; // as JSON.stringify: an absent optional field
        parts.push(`${quote(k)}: ${dump(v, `${path}.${k}`)}`);
      }
      return `{${parts.join(", ")}}`;
    }
    default:
      throw new FlyteAgentError(
        ErrorCode.INVALID_RESOURCE_META,
        `resource meta field ${path} is a ${typeof value}, which JSON cannot hold`,
      );
  }
}

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    // UTF-16 code units, so astral characters become a surrogate pair, as in Python.
    else out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + '"';
}

function pythonFloat(n: number, path: string): string {
  if (!Number.isFinite(n)) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_RESOURCE_META,
      `resource meta field ${path} is ${n}, not valid JSON`,
    );
  }
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return Object.is(n, -0) ? "0" : String(n);
  // Shortest round-trip digits, then Python's repr layout: scientific when exp < -4 or exp >= 16.
  const [mantissa, expText] = n.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(n);
}

/**
 * The default codec: Python-compatible JSON validated by a zod schema. Reads and writes the bytes a
 * flytekit agent's `ResourceMeta.encode()` produces for the same fields, so a TypeScript agent can take
 * over in-flight jobs of a Python agent during a rolling upgrade, and back. Unknown keys written by a
 * newer version are tolerated (dropped), never rejected.
 */
export function jsonResourceMetaCodec<S extends z.ZodType>(schema?: S): ResourceMetaCodec<z.output<S>> {
  return {
    encode(meta) {
      const value = schema ? validate(schema, meta, "encode") : meta;
      return Buffer.from(pythonJsonDumps(value), "utf8");
    },
    decode(bytes) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
      } catch (err) {
        throw new FlyteAgentError(
          ErrorCode.INVALID_RESOURCE_META,
          `resource_meta is not valid JSON (${bytes.length} bytes): ${(err as Error).message}`,
          { cause: err },
        );
      }
      return schema ? validate(schema, parsed, "decode") : (parsed as z.output<S>);
    },
  };
}

function validate<S extends z.ZodType>(schema: S, value: unknown, op: "encode" | "decode"): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
  throw new FlyteAgentError(
    ErrorCode.INVALID_RESOURCE_META,
    op === "decode"
      ? `resource_meta does not match the agent's metadata schema: ${issues}`
      : `cannot encode resource meta: ${issues}`,
    { cause: result.error },
  );
}
