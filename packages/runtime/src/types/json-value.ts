import { isPlainObject } from "../core/plain-object.js";
import { childPath, describeValue, indexPath, TypeTransformError } from "./errors.js";

/** Options of {@link toJsonValue}. */
export interface JsonValueOptions {
  /** The name of the value in error messages. @default "value" */
  readonly path?: string;
  /** What the path names in error messages (`input`, `output`). @default "value" */
  readonly label?: string;
  /**
   * What a `bigint` becomes: `"keep"` leaves it a bigint (for writers that write integers of any size
   * exactly, such as the resource_meta codec); `"number"` turns it into a number, refusing one that a
   * double cannot hold exactly (a `google.protobuf.Struct` holds numbers as doubles); `"string"` its
   * decimal text (for JSON read by JavaScript, such as an HTTP body).
   * @default "number"
   */
  readonly bigint?: "keep" | "number" | "string";
  /** What bytes (`Buffer`, `Uint8Array`) become: a base64 string, or an error. @default "reject" */
  readonly bytes?: "base64" | "reject";
}

/**
 * Converts a JS value to a JSON value, naming the field that JSON cannot hold: `Date`s become ISO
 * strings, `undefined` object fields are dropped (and become `null` in arrays, as `JSON.stringify`
 * does), and `NaN`, `Infinity`, functions, symbols, class instances are refused rather than silently
 * turned into `null`.
 * @throws TypeTransformError naming the field.
 */
export function toJsonValue(value: unknown, options: JsonValueOptions = {}): unknown {
  return convert(value, options.path ?? "value", {
    label: options.label ?? "value",
    bigint: options.bigint ?? "number",
    bytes: options.bytes ?? "reject",
  });
}

type Resolved = { label: string; bigint: "keep" | "number" | "string"; bytes: "base64" | "reject" };

function convert(value: unknown, path: string, o: Resolved): unknown {
  const fail = (detail: string): never => {
    throw new TypeTransformError(path, detail, { label: o.label });
  };
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) fail(`JSON cannot hold the number ${value}`);
    return value;
  }
  if (typeof value === "bigint") {
    if (o.bigint === "keep") return value;
    if (o.bigint === "string") return value.toString();
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      fail(`JSON numbers here are doubles and cannot hold ${value}n exactly`);
    }
    return Number(value);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) fail("invalid Date");
    return value.toISOString();
  }
  if (value instanceof Uint8Array) {
    if (o.bytes === "base64")
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
    return fail("JSON cannot hold bytes");
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => (item === undefined ? null : convert(item, indexPath(path, i), o)));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = convert(item, childPath(path, key), o);
    }
    return out;
  }
  return fail(`JSON cannot hold a ${describeValue(value)}`);
}
