import type { z } from "zod";
import { ErrorCode, FlyteAgentError } from "./errors.js";
import { carryJsonForm, markFloat, parsePythonJson, pythonJsonDumps } from "./python-json.js";

/**
 * Turns an agent's resource metadata into the opaque `resource_meta` bytes FlytePropeller stores and
 * sends back on every GetTask/DeleteTask, and back again. Must be deterministic and must read what
 * older versions of the agent wrote.
 */
export interface ResourceMetaCodec<Meta> {
  encode(meta: Meta): Uint8Array;
  decode(bytes: Uint8Array): Meta;
}

export { pythonJsonDumps, parsePythonJson } from "./python-json.js";

/**
 * The default codec: Python-compatible JSON validated by a zod schema. Reads and writes the bytes a
 * flytekit agent's `ResourceMeta.encode()` (`json.dumps(asdict(meta))`) produces for the same fields,
 * byte for byte, so a TypeScript agent can take over in-flight jobs of a Python agent during a rolling
 * upgrade, and back: integers of any size stay exact, integral floats stay `2.0`, key order and
 * `\uXXXX` escapes are Python's, `NaN`/`Infinity` are written as Python writes them.
 *
 * A `z.bigint()` field receives a `bigint`, a `z.number()` field a `number`; an integer a `number`
 * cannot hold exactly is an error naming the field, never a rounding. A number read as a float is
 * written back as one (`2.0`); a `z.float64()` field is a Python `float`, so its integral values are
 * written `2.0` too, while other integral numbers are written as ints (`2`), which Python reads
 * wherever a float is expected. Unknown keys written by a newer version are tolerated (dropped),
 * never rejected.
 */
export function jsonResourceMetaCodec<S extends z.ZodType>(schema?: S): ResourceMetaCodec<z.output<S>> {
  return {
    encode(meta) {
      let value: unknown = meta;
      if (schema) {
        value = validate(schema, meta, "encode");
        carryJsonForm(meta, value);
        markFloatFields(schema, value);
      }
      return Buffer.from(pythonJsonDumps(value), "utf8");
    },
    decode(bytes) {
      // A view, not a copy: this runs on every GetTask.
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
      const parsed = parsePythonJson(text);
      if (!schema) return parsed as z.output<S>;
      const exact = fitNumbers(schema, parsed, "");
      const out = validate(schema, exact, "decode");
      carryJsonForm(exact, out);
      return out;
    },
  };
}

/** The schema under optional/nullable/default/readonly/catch wrappers. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType };
    if (
      !def.innerType ||
      !["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"].includes(def.type)
    ) {
      return current;
    }
    current = def.innerType;
  }
}

interface ContainerDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  checks?: { _zod: { def: { format?: string } } }[];
  format?: string;
}

/** The schema of each child of `value` that the schema describes: object fields, array items, record values. */
function children(schema: z.core.$ZodType, value: unknown): [string, z.core.$ZodType][] {
  if (typeof value !== "object" || value === null) return [];
  const def = unwrap(schema)._zod.def as ContainerDef;
  const record = value as Record<string, unknown>;
  if (def.type === "object" && def.shape) {
    return Object.entries(def.shape).filter(([k]) => Object.hasOwn(record, k));
  }
  if (def.type === "array" && def.element && Array.isArray(value)) {
    return value.map((_, i) => [String(i), def.element!]);
  }
  if (def.type === "record" && def.valueType) return Object.keys(record).map((k) => [k, def.valueType!]);
  return [];
}

/**
 * True for `z.float64()` / `z.float32()`: a field declared a float. Plain `z.number()` is not one,
 * since agents use it for integers too and a Python `int` field must not receive `2.0`.
 */
function isFloatSchema(schema: z.core.$ZodType): boolean {
  const s = unwrap(schema);
  const def = s._zod.def as ContainerDef;
  if (def.type !== "number") return false;
  const formats = [def.format, ...(def.checks ?? []).map((c) => c._zod.def.format)];
  return formats.some((f) => typeof f === "string" && f.startsWith("float"));
}

/**
 * Gives each field the number type its schema asks for: a `bigint` for `z.bigint()`, a `number` for
 * `z.number()`, refusing an integer a double cannot hold exactly.
 */
function fitNumbers(schema: z.core.$ZodType, value: unknown, path: string): unknown {
  const s = unwrap(schema);
  const type = (s._zod.def as ContainerDef).type;
  if (type === "bigint" && typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (type === "number" && typeof value === "bigint") {
    throw new FlyteAgentError(
      ErrorCode.INVALID_RESOURCE_META,
      `resource_meta field ${path || "(root)"} holds ${value}, which a number cannot hold exactly; declare it z.bigint()`,
    );
  }
  const kids = children(s, value);
  if (kids.length === 0) return value;
  const record = value as Record<string, unknown>;
  for (const [key, child] of kids) {
    const before = record[key];
    const after = fitNumbers(child, before, path ? `${path}.${key}` : key);
    if (after !== before) record[key] = after;
  }
  return value;
}

/** Marks the integral values of float fields (`z.float64()`, `z.float32()`) to be written `2.0`. */
function markFloatFields(schema: z.core.$ZodType, value: unknown): void {
  for (const [key, child] of children(schema, value)) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === "number" && isFloatSchema(child)) markFloat(value as object, key);
    else markFloatFields(child, v);
  }
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
