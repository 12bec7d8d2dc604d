import { z } from "zod";
import { parseDuration } from "./duration.js";

/** How many files a blob holds: one file, or a directory of files. */
export const BlobDimensionality = {
  SINGLE: "single",
  MULTIPART: "multipart",
} as const;
export type BlobDimensionality = (typeof BlobDimensionality)[keyof typeof BlobDimensionality];

/** What the type engine knows about a Flyte-specific schema made by one of the {@link flyte} helpers. */
export type FlyteTypeMeta =
  | { readonly flyteKind: "blob"; readonly dimensionality: BlobDimensionality; readonly format: string }
  | {
      readonly flyteKind: "structured-dataset";
      readonly format: string;
      readonly columns: Readonly<Record<string, z.ZodType>>;
    }
  | { readonly flyteKind: "duration" };

const REGISTRY_KEY = Symbol.for("flyte-agent.types.registry");

/** What the registry stores: the metadata in a box, so zod's schema-replacing metadata types leave it alone. */
export interface FlyteTypeRegistryEntry {
  readonly flyte: unknown;
}

/**
 * The registry that marks Flyte-specific schemas. It lives on `globalThis` under a `Symbol.for` key so
 * that schemas made by one copy of the library are recognised by another. zod registries pass metadata
 * on to clones (`.describe()`, `.refine()`), so a refined `flyte.file()` is still a file.
 */
export const flyteTypeRegistry: z.core.$ZodRegistry<FlyteTypeRegistryEntry> = ((
  globalThis as { [REGISTRY_KEY]?: z.core.$ZodRegistry<FlyteTypeRegistryEntry> }
)[REGISTRY_KEY] ??= z.registry<FlyteTypeRegistryEntry>());

function mark<S extends z.core.$ZodType>(schema: S, meta: FlyteTypeMeta): S {
  flyteTypeRegistry.add(schema, { flyte: meta });
  return schema;
}

/** The Flyte-specific metadata of a schema, if it was made by a {@link flyte} helper. */
export function getFlyteTypeMeta(schema: z.core.$ZodType): FlyteTypeMeta | undefined {
  return flyteTypeRegistry.get(schema)?.flyte as FlyteTypeMeta | undefined;
}

/** The JS value of a `flyte.file()` or `flyte.directory()`: where the data is (`s3://…`, `gs://…`, a local path). */
export interface BlobValue {
  uri: string;
}

/** The JS value of a `flyte.structuredDataset()`: where the data is and, optionally, its storage format. */
export interface StructuredDatasetValue {
  uri: string;
  format?: string;
}

/** Options of {@link flyte.file} and {@link flyte.directory}. */
export interface BlobOptions {
  /** The blob format (`BlobType.format`), e.g. `csv`, `jpeg`. @default "" (any) */
  format?: string;
}

/** Options of {@link flyte.structuredDataset}. */
export interface StructuredDatasetOptions {
  /** Storage format (`StructuredDatasetType.format`). @default "parquet" */
  format?: string;
  /** Column names and types (`StructuredDatasetType.columns`). @default {} (schema-less) */
  columns?: Record<string, z.ZodType>;
}

function blobSchema(dimensionality: BlobDimensionality, options: BlobOptions = {}) {
  const schema = z.union([
    z
      .string()
      .min(1)
      .transform((uri): BlobValue => ({ uri })),
    z.object({ uri: z.string().min(1) }),
  ]);
  return mark(schema, { flyteKind: "blob", dimensionality, format: options.format ?? "" });
}

function structuredDatasetSchema(options: StructuredDatasetOptions = {}) {
  const schema = z.union([
    z
      .string()
      .min(1)
      .transform((uri): StructuredDatasetValue => ({ uri })),
    z.object({ uri: z.string().min(1), format: z.string().optional() }),
  ]);
  return mark(schema, {
    flyteKind: "structured-dataset",
    format: options.format ?? "parquet",
    columns: { ...(options.columns ?? {}) },
  });
}

function durationSchema() {
  const schema = z.union([
    z.number(),
    z.string().transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `not a duration: ${JSON.stringify(text)} (try "10s", "5m")`,
        });
        return z.NEVER;
      }
      return ms;
    }),
  ]);
  return mark(schema, { flyteKind: "duration" });
}

/**
 * Schemas for Flyte types that plain zod does not express.
 *
 * @example
 * ```ts
 * const inputs = {
 *   report: flyte.file({ format: "csv" }),   // { uri } (a string uri is accepted too)
 *   table: flyte.structuredDataset(),        // { uri, format? }, parquet by default
 *   wait: flyte.duration(),                  // milliseconds (a "10s" string is accepted too)
 *   rows: flyte.int64(),                     // bigint, full int64 range
 * };
 * ```
 */
export const flyte = {
  /** A single file (`BlobType` SINGLE). Value: `{ uri }`; a string uri is accepted on input. */
  file: (options?: BlobOptions) => blobSchema(BlobDimensionality.SINGLE, options),
  /** A directory (`BlobType` MULTIPART). Value: `{ uri }`; a string uri is accepted on input. */
  directory: (options?: BlobOptions) => blobSchema(BlobDimensionality.MULTIPART, options),
  /** A structured dataset (`StructuredDatasetType`). Value: `{ uri, format? }`; a string uri is accepted on input. */
  structuredDataset: (options?: StructuredDatasetOptions) => structuredDatasetSchema(options),
  /**
   * A duration (`SimpleType.DURATION`). Value: milliseconds as a `number` (fractional below 1 ms);
   * duration strings such as `"10s"` or `"1h30m"` are accepted on input.
   */
  duration: () => durationSchema(),
  /** An integer that fits a JS number exactly (`SimpleType.INTEGER`); same as `z.int()`. */
  int: () => z.int(),
  /** A full-range int64 as `bigint` (`SimpleType.INTEGER`); same as `z.int64()`. */
  int64: () => z.int64(),
} as const;
