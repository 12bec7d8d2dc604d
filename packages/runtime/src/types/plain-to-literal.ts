import type { Literal } from "../gen/flyteidl/core/literals.js";
import { type LiteralType, SimpleType } from "../gen/flyteidl/core/types.js";
import { dateToTimestamp, msToDuration } from "./duration.js";
import { TypeTransformError, childPath, describeValue, indexPath } from "./errors.js";
import { literal, noneLiteral, scalarLiteral } from "./literal.js";
import { isPlainObject } from "../core/plain-object.js";
import { declaresMsgpack } from "./literal-type.js";
import { defaultStructFormat, StructFormat, structLiteral } from "./msgpack.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Options of {@link plainToLiteral}. */
export interface PlainToLiteralOptions {
  /**
   * How plain objects of a STRUCT type are written. By default as the declared type says (msgpack
   * when it carries flytekit's msgpack annotation, else a Struct) and, with no type, msgpack as
   * flytekit >= 1.14 writes an untyped dict (`struct` when `FLYTE_USE_OLD_DC_FORMAT=true`).
   */
  structFormat?: StructFormat;
}

/**
 * Converts a plain JS value to a literal guided by a `LiteralType` (for example an output type read
 * from a task template), or inferred from the value when no type is known: integral numbers and
 * bigints → integer, other numbers → float, strings, booleans, `Date` → datetime, `null` → none,
 * arrays → collections, plain objects → msgpack or Struct (or a map when the type says so), `{ uri }` → blob or
 * structured dataset when the type says so. The inverse of {@link literalToPlain}.
 * @throws TypeTransformError naming the path when the value does not fit the type.
 */
export function plainToLiteral(
  value: unknown,
  type?: LiteralType,
  path = "value",
  label = "output",
  options: PlainToLiteralOptions = {},
): Literal {
  const fail = (detail: string): never => {
    throw new TypeTransformError(path, detail, { label });
  };
  if (type?.unionType) {
    if (value === null || value === undefined) {
      const none = type.unionType.variants.find((v) => v.simple === SimpleType.NONE);
      if (!none) fail(`expected a value, got ${describeValue(value)}`);
      return scalarLiteral({ union: { value: noneLiteral(), type: none } });
    }
    for (const variant of type.unionType.variants) {
      if (variant.simple === SimpleType.NONE) continue;
      try {
        return scalarLiteral({
          union: { value: plainToLiteral(value, variant, path, label, options), type: variant },
        });
      } catch {
        // try the next variant
      }
    }
    return fail(`${describeValue(value)} fits no variant of the union`);
  }
  if (value === null || value === undefined) {
    if (type && type.simple !== SimpleType.NONE) fail(`expected a value, got ${describeValue(value)}`);
    return noneLiteral();
  }
  if (type?.collectionType || (!type && Array.isArray(value))) {
    if (!Array.isArray(value)) return fail(`expected a list, got ${describeValue(value)}`);
    return literal({
      collection: {
        literals: value.map((v, i) =>
          plainToLiteral(v, type?.collectionType, indexPath(path, i), label, options),
        ),
      },
    });
  }
  if (type?.mapValueType) {
    if (!isPlainObject(value)) return fail(`expected a map, got ${describeValue(value)}`);
    const literals: Record<string, Literal> = {};
    for (const [k, v] of Object.entries(value))
      literals[k] = plainToLiteral(v, type.mapValueType, childPath(path, k), label, options);
    return literal({ map: { literals } });
  }
  if (type?.blob) {
    const uri = uriOf(value) ?? fail(`expected a file or directory ({ uri }), got ${describeValue(value)}`);
    return scalarLiteral({ blob: { uri, metadata: { type: type.blob } } });
  }
  if (type?.structuredDatasetType) {
    const uri = uriOf(value) ?? fail(`expected a structured dataset ({ uri }), got ${describeValue(value)}`);
    const format =
      (isPlainObject(value) && typeof value.format === "string" ? value.format : "") ||
      type.structuredDatasetType.format;
    return scalarLiteral({
      structuredDataset: {
        uri,
        metadata: { structuredDatasetType: { ...type.structuredDatasetType, format } },
      },
    });
  }
  if (type?.enumType) {
    if (typeof value !== "string" || !type.enumType.values.includes(value)) {
      return fail(`expected one of ${type.enumType.values.join(" | ")}, got ${describeValue(value)}`);
    }
    return scalarLiteral({ primitive: { stringValue: value } });
  }
  const simple = type?.simple ?? inferSimple(value);
  switch (simple) {
    case SimpleType.INTEGER: {
      const n =
        typeof value === "bigint"
          ? value
          : typeof value === "number" && Number.isInteger(value)
            ? BigInt(value)
            : undefined;
      if (n === undefined) return fail(`expected int, got ${describeValue(value)}`);
      if (n < INT64_MIN || n > INT64_MAX) return fail(`${n} does not fit in int64`);
      return scalarLiteral({ primitive: { integer: n } });
    }
    case SimpleType.FLOAT:
      if (typeof value !== "number" && typeof value !== "bigint")
        return fail(`expected float, got ${describeValue(value)}`);
      return scalarLiteral({ primitive: { floatValue: Number(value) } });
    case SimpleType.STRING:
      if (typeof value !== "string") return fail(`expected str, got ${describeValue(value)}`);
      return scalarLiteral({ primitive: { stringValue: value } });
    case SimpleType.BOOLEAN:
      if (typeof value !== "boolean") return fail(`expected bool, got ${describeValue(value)}`);
      return scalarLiteral({ primitive: { boolean: value } });
    case SimpleType.DATETIME: {
      const d = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
      if (!d || Number.isNaN(d.getTime())) return fail(`expected datetime, got ${describeValue(value)}`);
      return scalarLiteral({ primitive: { datetime: dateToTimestamp(d) } });
    }
    case SimpleType.DURATION:
      if (typeof value !== "number")
        return fail(`expected duration in milliseconds, got ${describeValue(value)}`);
      return scalarLiteral({ primitive: { duration: msToDuration(value) } });
    case SimpleType.STRUCT: {
      if (!isPlainObject(value)) return fail(`expected a JSON object, got ${describeValue(value)}`);
      // A declared STRUCT says how: flytekit's msgpack annotation means msgpack; a STRUCT without it
      // (a protobuf Struct, a dataclass of flytekit < 1.14) means a Struct. With nothing declared,
      // as flytekit writes an untyped dict.
      const format =
        options.structFormat ??
        (type && !declaresMsgpack(type) ? StructFormat.STRUCT : defaultStructFormat());
      return structLiteral(value, format, { path, label });
    }
    case SimpleType.BINARY:
      if (!Buffer.isBuffer(value)) return fail(`expected a Buffer, got ${describeValue(value)}`);
      return scalarLiteral({ binary: { value, tag: "" } });
    default:
      return fail(`cannot convert ${describeValue(value)} to a literal`);
  }
}

function inferSimple(value: unknown): SimpleType | undefined {
  switch (typeof value) {
    case "bigint":
      return SimpleType.INTEGER;
    case "number":
      return Number.isInteger(value) ? SimpleType.INTEGER : SimpleType.FLOAT;
    case "string":
      return SimpleType.STRING;
    case "boolean":
      return SimpleType.BOOLEAN;
    default:
      if (value instanceof Date) return SimpleType.DATETIME;
      if (Buffer.isBuffer(value)) return SimpleType.BINARY;
      if (isPlainObject(value)) return SimpleType.STRUCT;
      return undefined;
  }
}

function uriOf(value: unknown): string | undefined {
  if (typeof value === "string" && value) return value;
  if (isPlainObject(value) && typeof value.uri === "string" && value.uri) return value.uri;
  return undefined;
}
