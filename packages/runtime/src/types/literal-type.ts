import type { z } from "zod";
import type { VariableMap } from "../gen/flyteidl/core/interface.js";
import {
  BlobType_BlobDimensionality,
  LiteralType,
  SimpleType,
  type StructuredDatasetType,
  type TypeAnnotation,
} from "../gen/flyteidl/core/types.js";
import { childPath, TypeTransformError } from "./errors.js";
import { BlobDimensionality } from "./flyte-schemas.js";
import { schemaKind, type AnySchema, type SchemaKind } from "./schema-kind.js";

/** A `LiteralType` with every non-oneof field present, as the generated type requires. */
export function literalType(fields: Partial<LiteralType>): LiteralType {
  return { metadata: undefined, annotation: undefined, structure: undefined, ...fields };
}

/** The `LiteralType` of `SimpleType.NONE`. */
export function noneLiteralType(): LiteralType {
  return literalType({ simple: SimpleType.NONE });
}

/**
 * flytekit's transformer name for a type, used as `structure.tag` on union variants so that a
 * Python task reading a union written here picks the same variant.
 */
export function structureTag(kind: SchemaKind): string {
  switch (kind.kind) {
    case "integer":
    case "int64":
      return "int";
    case "float":
      return "float";
    case "string":
      return "str";
    case "boolean":
      return "bool";
    case "datetime":
      return "datetime";
    case "duration":
      return "timedelta";
    case "none":
      return "none";
    case "struct":
    case "map":
      return "Typed Dict";
    case "list":
      return "Typed List";
    case "enum":
      return "DefaultEnumTransformer";
    case "union":
      return "Typed Union";
    case "default":
      return structureTag(schemaKind(kind.inner));
    case "blob":
      return kind.dimensionality === BlobDimensionality.SINGLE ? "FlyteFilePath" : "FlyteDirectory";
    case "structured-dataset":
      return "StructuredDataset Transformer";
  }
}

/**
 * `TypeAnnotation` flytekit puts on the STRUCT type of a dataclass, Pydantic model or untyped dict to
 * say its values are msgpack (flytekit `core/type_engine.py`, `CACHE_KEY_METADATA` /
 * `SERIALIZATION_FORMAT` in `core/constants.py`).
 */
export function msgpackAnnotation(): TypeAnnotation {
  return { annotations: { "cache-key-metadata": { "serialization-format": "msgpack" } } };
}

/** True when a STRUCT type says its values are msgpack (see {@link msgpackAnnotation}). */
export function declaresMsgpack(type: LiteralType | undefined): boolean {
  const meta = type?.annotation?.annotations?.["cache-key-metadata"];
  return (meta as Record<string, unknown> | undefined)?.["serialization-format"] === "msgpack";
}

/** Returns a copy of `type` with `structure.tag` set, as flytekit does for union variants. */
export function withTag(type: LiteralType, tag: string): LiteralType {
  return { ...type, structure: { tag, dataclassType: {} } };
}

/** The Flyte `StructuredDatasetType` of a dataset schema's format and columns. */
export function structuredDatasetType(
  format: string,
  columns: Readonly<Record<string, AnySchema>>,
  path = "value",
  label = "value",
): StructuredDatasetType {
  return {
    format,
    columns: Object.entries(columns).map(([name, schema]) => ({
      name,
      literalType: toLiteralType(schema, childPath(path, name), label),
    })),
    externalSchemaType: "",
    externalSchemaBytes: Buffer.alloc(0),
  };
}

/**
 * The Flyte `LiteralType` of a zod schema, shaped as flytekit shapes it.
 *
 * | schema | LiteralType |
 * |---|---|
 * | `z.number().int()`, `z.int()`, `z.bigint()` | `simple: INTEGER` |
 * | `z.number()` | `simple: FLOAT` |
 * | `z.string()` / `z.boolean()` / `z.date()` | `STRING` / `BOOLEAN` / `DATETIME` |
 * | `flyte.duration()` | `DURATION` |
 * | `z.object({...})` | `STRUCT` |
 * | `z.enum([...])`, string `z.literal(...)` | `enumType` |
 * | `z.array(T)` / `z.record(z.string(), T)` | `collectionType` / `mapValueType` |
 * | `T.optional()`, `T.nullable()` | `unionType [T, NONE]`, variants tagged (`int`, `none`) |
 * | `z.union([...])` | `unionType`, variants tagged |
 * | `flyte.file()` / `flyte.directory()` | `blob` SINGLE / MULTIPART |
 * | `flyte.structuredDataset()` | `structuredDatasetType` |
 *
 * @throws TypeTransformError when the schema has no Flyte mapping.
 */
export function toLiteralType(schema: AnySchema, path = "value", label = "value"): LiteralType {
  const kind = schemaKind(schema, path, label);
  switch (kind.kind) {
    case "integer":
    case "int64":
      return literalType({ simple: SimpleType.INTEGER });
    case "float":
      return literalType({ simple: SimpleType.FLOAT });
    case "string":
      return literalType({ simple: SimpleType.STRING });
    case "boolean":
      return literalType({ simple: SimpleType.BOOLEAN });
    case "datetime":
      return literalType({ simple: SimpleType.DATETIME });
    case "duration":
      return literalType({ simple: SimpleType.DURATION });
    case "none":
      return noneLiteralType();
    case "struct": {
      // As flytekit's DataclassTransformer.get_literal_type: the field types (for Propeller's
      // attribute access) and the msgpack serialization-format annotation.
      const dataclassType: Record<string, LiteralType> = {};
      for (const [name, field] of Object.entries(kind.shape)) {
        try {
          dataclassType[name] = toLiteralType(field, childPath(path, name), label);
        } catch (err) {
          // A field with no Flyte type (bytes, unknown) travels in the msgpack as it is; flytekit
          // likewise leaves such fields out of dataclass_type.
          if (!(err instanceof TypeTransformError)) throw err;
        }
      }
      return literalType({
        simple: SimpleType.STRUCT,
        structure: { tag: "", dataclassType },
        annotation: msgpackAnnotation(),
      });
    }
    case "enum":
      return literalType({ enumType: { values: [...kind.values] } });
    case "list":
      return literalType({ collectionType: toLiteralType(kind.item, `${path}[]`, label) });
    case "map":
      return literalType({ mapValueType: toLiteralType(kind.value, `${path}{}`, label) });
    case "union": {
      const variants = kind.variants.map((v) =>
        withTag(toLiteralType(v, path, label), structureTag(schemaKind(v))),
      );
      if (kind.nullable) variants.push(withTag(noneLiteralType(), "none"));
      return literalType({ unionType: { variants } });
    }
    case "default":
      return toLiteralType(kind.inner, path, label);
    case "blob":
      return literalType({
        blob: {
          format: kind.format,
          dimensionality:
            kind.dimensionality === BlobDimensionality.SINGLE
              ? BlobType_BlobDimensionality.SINGLE
              : BlobType_BlobDimensionality.MULTIPART,
        },
      });
    case "structured-dataset":
      return literalType({
        structuredDatasetType: structuredDatasetType(kind.format, kind.columns, path, label),
      });
  }
}

/**
 * The `VariableMap` of a record of schemas (the inputs or outputs of a `TypedInterface`).
 *
 * @param descriptions optional `Variable.description` per name; a schema's `.describe()` text is the fallback.
 * @param label what the names are, for error messages (`input`, `output`).
 * @throws TypeTransformError naming the variable whose schema has no Flyte type.
 */
export function toVariableMap(
  shape: Readonly<Record<string, AnySchema>>,
  descriptions: Readonly<Record<string, string>> = {},
  label = "input",
): VariableMap {
  const variables: VariableMap["variables"] = {};
  for (const [name, schema] of Object.entries(shape)) {
    variables[name] = {
      type: toLiteralType(schema, name, label),
      description: descriptions[name] ?? (schema as { description?: string }).description ?? "",
      artifactPartialId: undefined,
      artifactTag: undefined,
    };
  }
  return { variables };
}

/** Types equal once `structure`, `metadata` and `annotation` are ignored at the top (flytekit's "type essence"). */
export function sameTypeEssence(a: LiteralType, b: LiteralType): boolean {
  const strip = (t: LiteralType): LiteralType => ({
    ...t,
    structure: undefined,
    metadata: undefined,
    annotation: undefined,
  });
  return Buffer.from(LiteralType.encode(strip(a)).finish()).equals(
    Buffer.from(LiteralType.encode(strip(b)).finish()),
  );
}

/**
 * A short human name of a schema's type for `--help` and messages: `int`, `float`, `str`, `bool`,
 * `datetime`, `duration`, `list<str>`, `map<str, int>`, `optional<float>`, `union<int | str>`,
 * `enum(a | b)`, `object`, `file`, `directory`, `structured dataset (parquet)`.
 */
export function describeType(schema: z.core.$ZodType): string {
  const kind = schemaKind(schema);
  switch (kind.kind) {
    case "integer":
    case "int64":
      return "int";
    case "float":
      return "float";
    case "string":
      return "str";
    case "boolean":
      return "bool";
    case "datetime":
      return "datetime";
    case "duration":
      return "duration";
    case "none":
      return "none";
    case "struct":
      return "object";
    case "enum":
      return `enum(${kind.values.join(" | ")})`;
    case "list":
      return `list<${describeType(kind.item)}>`;
    case "map":
      return `map<str, ${describeType(kind.value)}>`;
    case "union": {
      const inner = kind.variants.map(describeType);
      if (kind.nullable && inner.length === 1) return `optional<${inner[0]}>`;
      const union = `union<${inner.join(" | ")}>`;
      return kind.nullable ? `optional<${union}>` : union;
    }
    case "default":
      return describeType(kind.inner);
    case "blob":
      return (
        (kind.dimensionality === BlobDimensionality.SINGLE ? "file" : "directory") +
        (kind.format ? ` (${kind.format})` : "")
      );
    case "structured-dataset":
      return `structured dataset${kind.format ? ` (${kind.format})` : ""}`;
  }
}
