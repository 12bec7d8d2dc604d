import { z } from "zod";
import { isPlainObject } from "../core/plain-object.js";
import { childPath, indexPath, TypeTransformError } from "./errors.js";
import { parsePreciseIso, pythonIsoFormat } from "./precise-date.js";
import { schemaKind, type AnySchema, type SchemaKind } from "./schema-kind.js";

/**
 * Schema values inside a struct (a dataclass or Pydantic model in flytekit) take the JSON forms
 * mashumaro and Pydantic give them there. Going out, from a value the schema has parsed:
 * a datetime → `isoformat()` text, a duration → float seconds (`timedelta.total_seconds()`), a file
 * or directory → `{path}` (flytekit `FlyteFile._serialize`), a structured dataset →
 * `{uri, file_format}` (flytekit `StructuredDataset._serialize`).
 */
export function toStructValue(schema: AnySchema, value: unknown, path = "value"): unknown {
  const kind = fieldKind(schema, path);
  switch (kind?.kind) {
    case "struct": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const field = kind.shape[key];
        out[key] = field ? toStructValue(field, item, childPath(path, key)) : item;
      }
      return out;
    }
    case "list":
      return Array.isArray(value)
        ? value.map((v, i) => toStructValue(kind.item, v, indexPath(path, i)))
        : value;
    case "map":
      return mapValues(value, (v, k) => toStructValue(kind.value, v, childPath(path, k)));
    case "union": {
      if (value === null || value === undefined) return null;
      const variant = kind.variants.find((v) => z.safeParse(v, value).success);
      return variant ? toStructValue(variant, value, path) : value;
    }
    case "default":
      return toStructValue(kind.inner, value, path);
    case "datetime":
      return value instanceof Date && !Number.isNaN(value.getTime()) ? pythonIsoFormat(value) : value;
    case "duration":
      return typeof value === "number" ? value / 1000 : value;
    case "blob":
      return isPlainObject(value) && typeof value.uri === "string" ? { path: value.uri } : value;
    case "structured-dataset":
      return isPlainObject(value) && typeof value.uri === "string"
        ? { uri: value.uri, file_format: typeof value.format === "string" ? value.format : kind.format }
        : value;
    default:
      return value;
  }
}

/**
 * The inverse of {@link toStructValue}, applied to a decoded struct before the schema validates it:
 * ISO text → `Date` (a {@link PreciseDate}, naive times are UTC), float seconds → milliseconds,
 * `{path}` → `{uri}`, `{uri, file_format}` → `{uri, format}`, integers → `bigint` where the schema
 * asks for one. Values that do not fit are left for the schema to report.
 */
export function fromStructValue(schema: AnySchema, value: unknown, path = "value"): unknown {
  const kind = fieldKind(schema, path);
  switch (kind?.kind) {
    case "struct": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const field = kind.shape[key];
        out[key] = field ? fromStructValue(field, item, childPath(path, key)) : item;
      }
      return out;
    }
    case "list":
      return Array.isArray(value)
        ? value.map((v, i) => fromStructValue(kind.item, v, indexPath(path, i)))
        : value;
    case "map":
      return mapValues(value, (v, k) => fromStructValue(kind.value, v, childPath(path, k)));
    case "union": {
      if (value === null || value === undefined) return kind.nullable ? kind.absent : value;
      for (const variant of kind.variants) {
        const converted = fromStructValue(variant, value, path);
        if (z.safeParse(variant, converted).success) return converted;
      }
      return value;
    }
    case "default":
      return fromStructValue(kind.inner, value, path);
    case "int64":
      return typeof value === "number" && Number.isInteger(value) ? BigInt(value) : value;
    case "float":
      return typeof value === "bigint" ? Number(value) : value;
    case "datetime":
      return typeof value === "string" ? (parsePreciseIso(value) ?? value) : value;
    case "duration":
      return typeof value === "number" ? value * 1000 : value;
    case "blob":
      if (typeof value === "string") return { uri: value };
      return isPlainObject(value) && typeof value.path === "string" ? { uri: value.path } : value;
    case "structured-dataset": {
      if (!isPlainObject(value) || typeof value.uri !== "string") return value;
      const format = value.file_format ?? value.format;
      return typeof format === "string" && format ? { uri: value.uri, format } : { uri: value.uri };
    }
    default:
      return value;
  }
}

/**
 * The kind of a field's schema, or undefined for one with no Flyte type (`z.instanceof(Buffer)`,
 * `z.unknown()`): inside a struct such a value travels as it is (msgpack holds bytes), as flytekit
 * skips dataclass fields it cannot type.
 */
function fieldKind(schema: AnySchema, path: string): SchemaKind | undefined {
  try {
    return schemaKind(schema, path);
  } catch (err) {
    if (err instanceof TypeTransformError) return undefined;
    throw err;
  }
}

function mapValues(value: unknown, fn: (v: unknown, key: string) => unknown): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fn(v, k);
  return out;
}
