import type { z } from "zod";
import { TypeTransformError } from "./errors.js";
import { getFlyteTypeMeta, type BlobDimensionality } from "./flyte-schemas.js";

/** Any zod v4 schema (classic or mini). */
export type AnySchema = z.core.$ZodType;

/**
 * What the type engine makes of a schema. Internal: every conversion switches on this, so a schema's
 * shape is worked out once (results are cached per schema object).
 */
export type SchemaKind =
  | { readonly kind: "integer" }
  | { readonly kind: "int64" }
  | { readonly kind: "float" }
  | { readonly kind: "string" }
  | { readonly kind: "boolean" }
  | { readonly kind: "datetime" }
  | { readonly kind: "duration" }
  | { readonly kind: "none" }
  | { readonly kind: "struct"; readonly shape: Readonly<Record<string, AnySchema>> }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "list"; readonly item: AnySchema }
  | { readonly kind: "map"; readonly value: AnySchema }
  | {
      readonly kind: "union";
      /** The non-none variants, flattened (a union inside an optional is one union). */
      readonly variants: readonly AnySchema[];
      /** True when null/undefined is allowed (`Optional[T]` in flytekit terms). */
      readonly nullable: boolean;
      /** What a none literal decodes to: `undefined` for `.optional()`, `null` for `.nullable()`. */
      readonly absent: null | undefined;
    }
  | { readonly kind: "default"; readonly inner: AnySchema }
  | {
      readonly kind: "blob";
      readonly dimensionality: BlobDimensionality;
      readonly format: string;
    }
  | {
      readonly kind: "structured-dataset";
      readonly format: string;
      readonly columns: Readonly<Record<string, AnySchema>>;
    };

interface LooseDef {
  type: string;
  innerType?: AnySchema;
  element?: AnySchema;
  valueType?: AnySchema;
  keyType?: AnySchema;
  options?: AnySchema[];
  entries?: Record<string, unknown>;
  values?: unknown[];
  shape?: Record<string, AnySchema>;
  checks?: { _zod: { def: { check?: string; format?: string } } }[];
  check?: string;
  format?: string;
}

function defOf(schema: AnySchema): LooseDef {
  return schema._zod.def;
}

function isIntegerNumber(schema: AnySchema): boolean {
  const classic = schema as { isInt?: unknown };
  if (typeof classic.isInt === "boolean") return classic.isInt;
  const def = defOf(schema);
  const formats = [def.format, ...(def.checks ?? []).map((c) => c._zod.def.format)];
  return formats.some((f) => typeof f === "string" && f.includes("int"));
}

const cache = new WeakMap<AnySchema, SchemaKind>();

/**
 * Works out what a schema is in Flyte terms.
 *
 * @throws TypeTransformError for schemas with no Flyte mapping (transforms, tuples, `any`, …).
 */
export function schemaKind(schema: AnySchema, path = "value", label = "value"): SchemaKind {
  let kind = cache.get(schema);
  if (!kind) {
    kind = resolve(schema, path, label);
    cache.set(schema, kind);
  }
  return kind;
}

function resolve(schema: AnySchema, path: string, label: string): SchemaKind {
  const meta = getFlyteTypeMeta(schema);
  if (meta) {
    switch (meta.flyteKind) {
      case "blob":
        return { kind: "blob", dimensionality: meta.dimensionality, format: meta.format };
      case "structured-dataset":
        return { kind: "structured-dataset", format: meta.format, columns: meta.columns };
      case "duration":
        return { kind: "duration" };
    }
  }
  const def = defOf(schema);
  const unsupported = (why: string): never => {
    throw new TypeTransformError(path, `unsupported schema: ${why}`, { label });
  };
  switch (def.type) {
    case "number":
      return isIntegerNumber(schema) ? { kind: "integer" } : { kind: "float" };
    case "bigint":
      return { kind: "int64" };
    case "string":
      return { kind: "string" };
    case "boolean":
      return { kind: "boolean" };
    case "date":
      return { kind: "datetime" };
    case "null":
    case "undefined":
    case "void":
      return { kind: "none" };
    case "object":
      return { kind: "struct", shape: def.shape ?? {} };
    case "enum": {
      const values = Object.values(def.entries ?? {});
      if (!values.every((v) => typeof v === "string")) unsupported("enums must have string values");
      return { kind: "enum", values: values as string[] };
    }
    case "literal": {
      const values = def.values ?? [];
      if (!values.every((v) => typeof v === "string"))
        unsupported("only string literals map to a Flyte enum");
      return { kind: "enum", values: values as string[] };
    }
    case "array":
      return { kind: "list", item: def.element as AnySchema };
    case "record": {
      const keyKind = schemaKind(def.keyType as AnySchema, path, label);
      if (keyKind.kind !== "string" && keyKind.kind !== "enum") {
        unsupported("record keys must be strings (Flyte map keys are strings)");
      }
      return { kind: "map", value: def.valueType as AnySchema };
    }
    case "optional":
    case "nullable": {
      const inner = def.innerType as AnySchema;
      const innerKind = schemaKind(inner, path, label);
      const absent = def.type === "optional" ? undefined : null;
      if (innerKind.kind === "union") {
        return {
          kind: "union",
          variants: innerKind.variants,
          nullable: true,
          absent: innerKind.nullable ? innerKind.absent : absent,
        };
      }
      if (innerKind.kind === "none") return innerKind;
      return { kind: "union", variants: [inner], nullable: true, absent };
    }
    case "union": {
      const variants: AnySchema[] = [];
      let nullable = false;
      let absent: null | undefined;
      for (const option of def.options ?? []) {
        const k = schemaKind(option, path, label);
        if (k.kind === "none") {
          nullable = true;
          absent = defOf(option).type === "null" ? null : undefined;
        } else if (k.kind === "union") {
          variants.push(...k.variants);
          if (k.nullable) {
            nullable = true;
            absent = k.absent;
          }
        } else {
          variants.push(option);
        }
      }
      if (variants.length === 0) unsupported("a union needs at least one non-null variant");
      if (variants.length === 1 && !nullable) return schemaKind(variants[0] as AnySchema, path, label);
      return { kind: "union", variants, nullable, absent };
    }
    case "default":
    case "prefault":
      schemaKind(def.innerType as AnySchema, path, label);
      return { kind: "default", inner: def.innerType as AnySchema };
    case "readonly":
    case "catch":
    case "nonoptional":
      return schemaKind(def.innerType as AnySchema, path, label);
    default:
      return unsupported(
        `zod type "${def.type}" has no Flyte mapping (use numbers, strings, booleans, dates, enums, ` +
          `arrays, records, objects, unions, optionals or the flyte.* helpers)`,
      );
  }
}

/** Follows `.default()` wrappers to the schema that decides the Flyte type. */
export function unwrapDefault(schema: AnySchema): { schema: AnySchema; kind: SchemaKind } {
  let current = schema;
  let kind = schemaKind(current);
  while (kind.kind === "default") {
    current = kind.inner;
    kind = schemaKind(current);
  }
  return { schema: current, kind };
}
