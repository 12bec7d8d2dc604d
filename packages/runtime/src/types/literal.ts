import { z } from "zod";
import type { Literal, LiteralMap, Scalar } from "../gen/flyteidl/core/literals.js";
import type { LiteralType } from "../gen/flyteidl/core/types.js";
import { durationToMs, msToDuration, parseDuration, dateToTimestamp, timestampToDate } from "./duration.js";
import { childPath, describeValue, indexPath, TypeTransformError } from "./errors.js";
import { BlobDimensionality, type BlobValue, type StructuredDatasetValue } from "./flyte-schemas.js";
import {
  describeType,
  noneLiteralType,
  sameTypeEssence,
  structuredDatasetType,
  structureTag,
  toLiteralType,
  withTag,
} from "./literal-type.js";
import { BlobType_BlobDimensionality } from "../gen/flyteidl/core/types.js";
import { schemaKind, type AnySchema } from "./schema-kind.js";
import { isPlainObject } from "../core/plain-object.js";
import { defaultStructFormat, readStructLiteral, structLiteral, type StructFormat } from "./msgpack.js";
import { fromStructValue, toStructValue } from "./struct-value.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Where a value sits, for error messages. */
interface Site {
  readonly path: string;
  readonly label: string;
  /** How struct values are written; the default follows `FLYTE_USE_OLD_DC_FORMAT`. */
  readonly format?: StructFormat;
}

/** A `Literal` with its non-oneof fields filled in, as the generated type requires. */
export function literal(fields: Partial<Literal>): Literal {
  return { hash: "", metadata: {}, ...fields };
}

/** A scalar `Literal`. */
export function scalarLiteral(scalar: Scalar): Literal {
  return literal({ scalar });
}

/** The literal flytekit writes for `None`: `scalar.noneType`. */
export function noneLiteral(): Literal {
  return scalarLiteral({ noneType: {} });
}

function fail(site: Site, detail: string, cause?: unknown): never {
  throw new TypeTransformError(site.path, detail, { label: site.label, cause });
}

function mismatch(site: Site, schema: AnySchema, value: unknown, extra = ""): never {
  return fail(site, `expected ${describeType(schema)}, got ${describeValue(value)}${extra}`);
}

function zodIssueError(error: z.core.$ZodError, site: Site): TypeTransformError {
  const issue = error.issues[0];
  let path = site.path;
  for (const key of issue?.path ?? []) {
    path = typeof key === "number" ? indexPath(path, key) : childPath(path, String(key));
  }
  return new TypeTransformError(path, issue?.message ?? "invalid value", { label: site.label, cause: error });
}

function encodeValue(schema: AnySchema, value: unknown, site: Site): Literal {
  const kind = schemaKind(schema, site.path, site.label);
  switch (kind.kind) {
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return mismatch(site, schema, value);
      if (!Number.isSafeInteger(value)) {
        return mismatch(site, schema, value, " which is not a safe integer (use z.bigint() for full int64)");
      }
      return scalarLiteral({ primitive: { integer: BigInt(value) } });
    case "int64":
      if (typeof value !== "bigint") return mismatch(site, schema, value);
      if (value < INT64_MIN || value > INT64_MAX)
        return mismatch(site, schema, value, " outside the int64 range");
      return scalarLiteral({ primitive: { integer: value } });
    case "float":
      if (typeof value !== "number") return mismatch(site, schema, value);
      return scalarLiteral({ primitive: { floatValue: value } });
    case "string":
      if (typeof value !== "string") return mismatch(site, schema, value);
      return scalarLiteral({ primitive: { stringValue: value } });
    case "boolean":
      if (typeof value !== "boolean") return mismatch(site, schema, value);
      return scalarLiteral({ primitive: { boolean: value } });
    case "datetime":
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) return mismatch(site, schema, value);
      return scalarLiteral({ primitive: { datetime: dateToTimestamp(value) } });
    case "duration": {
      const ms = typeof value === "string" ? parseDuration(value) : value;
      if (typeof ms !== "number" || !Number.isFinite(ms)) return mismatch(site, schema, value);
      return scalarLiteral({ primitive: { duration: msToDuration(ms) } });
    }
    case "none":
      if (value !== null && value !== undefined) return mismatch(site, schema, value);
      return noneLiteral();
    case "struct":
      if (!isPlainObject(value)) return mismatch(site, schema, value);
      return structLiteral(toStructValue(schema, value, site.path), site.format ?? defaultStructFormat(), {
        path: site.path,
        label: site.label,
      });
    case "enum":
      if (typeof value !== "string" || !kind.values.includes(value)) {
        return fail(
          site,
          `expected one of ${kind.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(value)}`,
        );
      }
      return scalarLiteral({ primitive: { stringValue: value } });
    case "list":
      if (!Array.isArray(value)) return mismatch(site, schema, value);
      return literal({
        collection: {
          literals: value.map((item, i) =>
            encodeValue(kind.item, item, { ...site, path: indexPath(site.path, i) }),
          ),
        },
      });
    case "map": {
      if (!isPlainObject(value)) return mismatch(site, schema, value);
      const literals: Record<string, Literal> = {};
      for (const [key, item] of Object.entries(value)) {
        literals[key] = encodeValue(kind.value, item, { ...site, path: childPath(site.path, key) });
      }
      return literal({ map: { literals } });
    }
    case "union": {
      if (value === null || value === undefined) {
        if (!kind.nullable) return mismatch(site, schema, value);
        return scalarLiteral({ union: { value: noneLiteral(), type: withTag(noneLiteralType(), "none") } });
      }
      const wrap = (variant: AnySchema, inner: Literal): Literal =>
        scalarLiteral({
          union: { value: inner, type: withTag(toLiteralType(variant), structureTag(schemaKind(variant))) },
        });
      const [only] = kind.variants;
      if (kind.variants.length === 1 && only) return wrap(only, encodeValue(only, value, site));
      for (const variant of kind.variants) {
        if (!z.safeParse(variant, value).success) continue;
        try {
          return wrap(variant, encodeValue(variant, value, site));
        } catch (err) {
          if (!(err instanceof TypeTransformError)) throw err;
        }
      }
      return mismatch(site, schema, value);
    }
    case "default":
      return encodeValue(kind.inner, value === undefined ? z.parse(schema, undefined) : value, site);
    case "blob": {
      const uri = typeof value === "string" ? value : isPlainObject(value) ? value.uri : undefined;
      if (typeof uri !== "string" || uri === "") return mismatch(site, schema, value, " (expected { uri })");
      return scalarLiteral({
        blob: {
          uri,
          metadata: {
            type: {
              format: kind.format,
              dimensionality:
                kind.dimensionality === BlobDimensionality.SINGLE
                  ? BlobType_BlobDimensionality.SINGLE
                  : BlobType_BlobDimensionality.MULTIPART,
            },
          },
        },
      });
    }
    case "structured-dataset": {
      const obj = typeof value === "string" ? { uri: value } : isPlainObject(value) ? value : {};
      const { uri, format } = obj as { uri?: unknown; format?: unknown };
      if (typeof uri !== "string" || uri === "" || (format !== undefined && typeof format !== "string")) {
        return mismatch(site, schema, value, " (expected { uri, format? })");
      }
      return scalarLiteral({
        structuredDataset: {
          uri,
          metadata: { structuredDatasetType: structuredDatasetType(format ?? kind.format, kind.columns) },
        },
      });
    }
  }
}

/** A short description of a literal for error messages: `string literal "abc"`, `collection`, `none`. */
export function describeLiteral(lit: Literal | undefined): string {
  if (!lit) return "nothing";
  if (lit.collection) return "collection";
  if (lit.map) return "map";
  if (lit.offloadedMetadata) return `offloaded literal at ${lit.offloadedMetadata.uri}`;
  const s = lit.scalar;
  if (!s) return "empty literal";
  const p = s.primitive;
  if (p) {
    if (p.integer !== undefined) return `integer literal ${p.integer}`;
    if (p.floatValue !== undefined) return `float literal ${p.floatValue}`;
    if (p.stringValue !== undefined) return `string literal ${JSON.stringify(p.stringValue.slice(0, 40))}`;
    if (p.boolean !== undefined) return `boolean literal ${p.boolean}`;
    if (p.datetime !== undefined) return "datetime literal";
    if (p.duration !== undefined) return "duration literal";
    return "empty primitive";
  }
  if (s.noneType) return "none";
  if (s.blob) return "blob";
  if (s.structuredDataset) return "structured dataset";
  if (s.generic) return "struct";
  if (s.binary) return `binary (${s.binary.tag || "untagged"})`;
  if (s.union) return `union of ${describeLiteral(s.union.value)}`;
  if (s.schema) return "schema";
  if (s.error) return "error";
  return "empty scalar";
}

function decodeValue(schema: AnySchema, lit: Literal | undefined, site: Site): unknown {
  const kind = schemaKind(schema, site.path, site.label);
  while (kind.kind !== "union" && lit?.scalar?.union) lit = lit.scalar.union.value;
  const wrong = (): never => fail(site, `expected ${describeType(schema)}, got ${describeLiteral(lit)}`);
  if (lit?.offloadedMetadata) {
    fail(site, `the literal is offloaded to ${lit.offloadedMetadata.uri}; load it before decoding`);
  }
  const p = lit?.scalar?.primitive;
  switch (kind.kind) {
    case "integer": {
      const v = p?.integer;
      if (v === undefined) return wrong();
      if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
        return fail(
          site,
          `int64 value ${v} is not a safe integer and would lose precision as a number; ` +
            `declare it z.bigint() (flyte.int64()) to keep it`,
        );
      }
      return Number(v);
    }
    case "int64":
      return p?.integer ?? wrong();
    case "float":
      if (p?.floatValue !== undefined) return p.floatValue;
      if (p?.integer !== undefined) return Number(p.integer);
      return wrong();
    case "string":
      return p?.stringValue ?? wrong();
    case "boolean":
      return p?.boolean ?? wrong();
    case "datetime": {
      if (!p?.datetime) return wrong();
      const date = timestampToDate(p.datetime);
      if (Number.isNaN(date.getTime()))
        fail(site, `timestamp ${p.datetime.seconds}s is outside the JS Date range`);
      return date;
    }
    case "duration":
      return p?.duration ? durationToMs(p.duration) : wrong();
    case "none":
      if (!lit?.scalar?.noneType) return wrong();
      return z.safeParse(schema, null).success ? null : undefined;
    case "struct": {
      // flytekit >= 1.14 writes msgpack, older flytekit (and FLYTE_USE_OLD_DC_FORMAT) a Struct.
      const value = readStructLiteral(lit, site);
      return value === undefined ? wrong() : fromStructValue(schema, value, site.path);
    }
    case "enum": {
      const v = p?.stringValue;
      if (v === undefined) return wrong();
      if (!kind.values.includes(v)) {
        fail(
          site,
          `expected one of ${kind.values.map((x) => JSON.stringify(x)).join(", ")}, got ${JSON.stringify(v)}`,
        );
      }
      return v;
    }
    case "list": {
      const items = lit?.collection?.literals;
      if (!items) return wrong();
      return items.map((item, i) => decodeValue(kind.item, item, { ...site, path: indexPath(site.path, i) }));
    }
    case "map": {
      const entries = lit?.map?.literals;
      if (!entries) {
        // An untyped dict from flytekit (msgpack or Struct) where the schema declares a record.
        const value = readStructLiteral(lit, site);
        return value === undefined ? wrong() : fromStructValue(schema, value, site.path);
      }
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(entries)) {
        out[key] = decodeValue(kind.value, item, { ...site, path: childPath(site.path, key) });
      }
      return out;
    }
    case "union": {
      let inner = lit;
      let declared: LiteralType | undefined;
      while (inner?.scalar?.union) {
        declared = inner.scalar.union.type;
        inner = inner.scalar.union.value;
      }
      if (inner?.scalar?.noneType) {
        if (kind.nullable) return kind.absent;
        return wrong();
      }
      let candidates = [...kind.variants];
      if (declared) {
        const d = declared;
        const tag = d.structure?.tag;
        const score = (v: AnySchema): number => {
          const t = toLiteralType(v);
          if (!sameTypeEssence(t, d)) return 2;
          return tag && tag !== structureTag(schemaKind(v)) ? 1 : 0;
        };
        candidates = candidates
          .map((v) => [score(v), v] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, v]) => v);
      }
      let firstError: TypeTransformError | undefined;
      for (const variant of candidates) {
        try {
          const value = decodeValue(variant, inner, site);
          if (candidates.length === 1 || z.safeParse(variant, value).success) return value;
        } catch (err) {
          if (!(err instanceof TypeTransformError)) throw err;
          firstError ??= err;
        }
      }
      if (candidates.length === 1 && firstError) throw firstError;
      return wrong();
    }
    case "default":
      return decodeValue(kind.inner, lit, site);
    case "blob": {
      const blob = lit?.scalar?.blob;
      if (!blob) return wrong();
      return { uri: blob.uri } satisfies BlobValue;
    }
    case "structured-dataset": {
      const sd = lit?.scalar?.structuredDataset;
      if (!sd) return wrong();
      const format = sd.metadata?.structuredDatasetType?.format;
      return (format ? { uri: sd.uri, format } : { uri: sd.uri }) satisfies StructuredDatasetValue;
    }
  }
}

/**
 * Converts a JS value to a Flyte `Literal` of the schema's type.
 *
 * The value is validated with the schema first (refinements, defaults); a value of the wrong type is
 * reported with its field path: `value "rows[2].amount": expected float, got string "abc"`.
 * Optional values are wrapped in a union literal as flytekit does for `Optional[T]`.
 *
 * @param path the name used in error messages for the top of the value.
 * @param label what the path names in error messages (`input`, `output`).
 * @throws TypeTransformError (code `TYPE_MISMATCH`).
 */
export function toLiteral<S extends AnySchema>(
  schema: S,
  value: z.input<S>,
  path = "value",
  label = "value",
  options: ToLiteralOptions = {},
): Literal {
  const site: Site = { path, label, ...(options.structFormat ? { format: options.structFormat } : {}) };
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return encodeValue(schema, parsed.data, site);
  // The raw walk names a type mismatch more precisely than zod; if the types fit, the failure is a refinement.
  encodeValue(schema, value, site);
  throw zodIssueError(parsed.error, site);
}

/**
 * Converts a Flyte `Literal` to a JS value of the schema, then validates it with the schema.
 *
 * Union-wrapped literals are unwrapped where the schema is not a union; optional schemas accept both
 * the union-wrapped and the plain form. An int64 that does not fit a JS number exactly is rejected
 * for `z.number().int()` (declare `z.bigint()` to receive it).
 *
 * @throws TypeTransformError (code `TYPE_MISMATCH`).
 */
export function fromLiteral<S extends AnySchema>(
  schema: S,
  lit: Literal,
  path = "value",
  label = "value",
): z.output<S> {
  const site = { path, label };
  const value = decodeValue(schema, lit, site);
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) throw zodIssueError(parsed.error, site);
  return parsed.data;
}

/** Options of {@link toLiteral}. */
export interface ToLiteralOptions {
  /**
   * How objects (`z.object`) are written: `msgpack` as flytekit >= 1.14 writes dataclasses and
   * Pydantic models, or `struct` (a `google.protobuf.Struct`) for flytekit < 1.14 readers.
   * @default "struct" when the environment has `FLYTE_USE_OLD_DC_FORMAT=true` (as in flytekit), else "msgpack"
   */
  structFormat?: StructFormat;
}

/** A record of schemas: the inputs or outputs of a task. */
export type SchemaShape = Readonly<Record<string, AnySchema>>;

/** The JS values a {@link SchemaShape} accepts (optional schemas make optional keys). */
export type ShapeInput<S extends SchemaShape> = z.input<z.ZodObject<S>>;

/** The JS values decoded for a {@link SchemaShape}. */
export type ShapeOutput<S extends SchemaShape> = z.output<z.ZodObject<S>>;

/** Options of {@link toLiteralMap} and {@link fromLiteralMap}. */
export interface LiteralMapOptions {
  /** What the names are, for messages: `input`, `output`. @default "input" */
  label?: string;
  /** Ignore names the shape does not declare instead of failing. @default false */
  allowExtraKeys?: boolean;
  /** How objects are written (see {@link ToLiteralOptions.structFormat}); ignored when reading. */
  structFormat?: StructFormat;
}

function checkNames(shape: SchemaShape, names: string[], options: LiteralMapOptions): void {
  if (options.allowExtraKeys) return;
  const label = options.label ?? "input";
  for (const name of names) {
    if (!Object.hasOwn(shape, name)) {
      const declared = Object.keys(shape);
      throw new TypeTransformError(
        name,
        `unexpected ${label}; declared ${label}s are ${declared.length ? declared.join(", ") : "(none)"}`,
        { label },
      );
    }
  }
}

function acceptsUndefined(schema: AnySchema): boolean {
  return z.safeParse(schema, undefined).success;
}

/**
 * Converts named JS values to a `LiteralMap` (the inputs or outputs of a task).
 *
 * Every required name must be present; names the shape does not declare are rejected; an optional
 * name that is missing is written as a none literal (as flytekit writes `None`).
 *
 * @throws TypeTransformError naming the input.
 */
export function toLiteralMap<S extends SchemaShape>(
  shape: S,
  values: ShapeInput<S>,
  options: LiteralMapOptions = {},
): LiteralMap {
  const label = options.label ?? "input";
  if (!isPlainObject(values)) {
    throw new TypeTransformError("(all)", `expected an object of ${label}s, got ${describeValue(values)}`, {
      label,
    });
  }
  const record = values as Record<string, unknown>;
  checkNames(
    shape,
    Object.keys(record).filter((k) => record[k] !== undefined),
    options,
  );
  const literals: Record<string, Literal> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const value = record[name];
    if (value === undefined && !acceptsUndefined(schema)) {
      throw new TypeTransformError(name, `missing required ${label} (${describeType(schema)})`, { label });
    }
    literals[name] = toLiteral(schema, value, name, label, {
      ...(options.structFormat ? { structFormat: options.structFormat } : {}),
    });
  }
  return { literals };
}

/**
 * Converts a `LiteralMap` to named JS values, validated with the shape's schemas.
 *
 * @throws TypeTransformError naming the input or output.
 */
export function fromLiteralMap<S extends SchemaShape>(
  shape: S,
  map: LiteralMap | undefined,
  options: LiteralMapOptions = {},
): ShapeOutput<S> {
  const label = options.label ?? "input";
  const literals = map?.literals ?? {};
  checkNames(shape, Object.keys(literals), options);
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const lit = literals[name];
    if (lit === undefined) {
      if (!acceptsUndefined(schema)) {
        throw new TypeTransformError(name, `missing required ${label} (${describeType(schema)})`, { label });
      }
      const value = z.parse(schema, undefined);
      if (value !== undefined) out[name] = value;
      continue;
    }
    out[name] = fromLiteral(schema, lit, name, label);
  }
  return out as ShapeOutput<S>;
}
