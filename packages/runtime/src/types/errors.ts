import { ErrorCode, FlyteAgentError } from "../core/errors.js";

/**
 * A value does not fit its Flyte type, or a schema cannot be mapped to one.
 *
 * The message names the field: `input "rows[2].amount": expected float, got string "abc"`.
 */
export class TypeTransformError extends FlyteAgentError {
  /** Where the problem is, e.g. `rows[2].amount` (the top-level name first). */
  readonly path: string;
  /** What is wrong, without the location: `expected float, got string "abc"`. */
  readonly detail: string;
  /** What the path names (`input`, `output`, `value`). */
  readonly label: string;

  constructor(path: string, detail: string, options?: { label?: string; cause?: unknown }) {
    const label = options?.label ?? "value";
    super(ErrorCode.TYPE_MISMATCH, `${label} "${path}": ${detail}`, { cause: options?.cause });
    this.path = path;
    this.detail = detail;
    this.label = label;
  }
}

/** Appends an object key or map key to a field path (`a.b`, `a["odd key"]`). */
export function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Appends a list index to a field path (`rows[2]`). */
export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** A short description of a JS value for error messages: `string "abc"`, `number 1.5`, `array`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === "number") return `number ${String(value)}`;
  if (typeof value === "bigint") return `bigint ${value}n`;
  if (typeof value === "boolean") return `boolean ${value}`;
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "invalid Date" : "Date";
  if (Buffer.isBuffer(value)) return "Buffer";
  return typeof value;
}
