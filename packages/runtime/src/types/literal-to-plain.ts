import type { Literal } from "../gen/flyteidl/core/literals.js";
import { BlobType_BlobDimensionality, type LiteralType } from "../gen/flyteidl/core/types.js";
import { durationToMs, timestampToDate } from "./duration.js";
import { decodeMsgpack, MSGPACK_TAG } from "./msgpack.js";

/**
 * Converts a literal to a plain JS value without a schema, for printing the outputs of tasks whose
 * types are only known at run time. Best effort, never throws:
 *
 * - integers → `number` when safe, else `bigint`; floats, strings, booleans as themselves;
 * - datetime → `Date` (a `PreciseDate` keeping the nanoseconds); duration → milliseconds; none → `null`;
 * - collections → arrays; maps → objects; structs → their JSON object; unions → their value;
 * - blobs → `{ uri, format?, dimensionality: "single" | "multipart" }`;
 *   structured datasets → `{ uri, format? }`; msgpack binary (flytekit's dataclasses, Pydantic
 *   models, untyped dicts) → the decoded value; other binary → `Buffer`; errors → `{ error }`.
 *
 * @param type the literal's declared type, when known; enum values come back as strings either way.
 */
export function literalToPlain(literal: Literal | undefined, type?: LiteralType): unknown {
  if (!literal) return undefined;
  if (literal.collection) {
    return literal.collection.literals.map((item) => literalToPlain(item, type?.collectionType));
  }
  if (literal.map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(literal.map.literals)) {
      out[key] = literalToPlain(item, type?.mapValueType);
    }
    return out;
  }
  if (literal.offloadedMetadata) return { offloadedUri: literal.offloadedMetadata.uri };
  const s = literal.scalar;
  if (!s) return undefined;
  const p = s.primitive;
  if (p) {
    if (p.integer !== undefined) {
      const safe =
        p.integer >= BigInt(Number.MIN_SAFE_INTEGER) && p.integer <= BigInt(Number.MAX_SAFE_INTEGER);
      return safe ? Number(p.integer) : p.integer;
    }
    if (p.floatValue !== undefined) return p.floatValue;
    if (p.stringValue !== undefined) return p.stringValue;
    if (p.boolean !== undefined) return p.boolean;
    if (p.datetime) return timestampToDate(p.datetime);
    if (p.duration) return durationToMs(p.duration);
    return undefined;
  }
  if (s.noneType) return null;
  if (s.union) return literalToPlain(s.union.value, s.union.type);
  if (s.generic) return s.generic;
  if (s.blob) {
    const blobType = s.blob.metadata?.type;
    return {
      uri: s.blob.uri,
      ...(blobType?.format ? { format: blobType.format } : {}),
      dimensionality:
        blobType?.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "multipart" : "single",
    };
  }
  if (s.structuredDataset) {
    const format = s.structuredDataset.metadata?.structuredDatasetType?.format;
    return { uri: s.structuredDataset.uri, ...(format ? { format } : {}) };
  }
  if (s.schema) return { uri: s.schema.uri };
  if (s.binary) {
    if (s.binary.tag !== MSGPACK_TAG) return s.binary.value;
    try {
      return decodeMsgpack(s.binary.value);
    } catch {
      return s.binary.value; // best effort: the raw bytes rather than an error
    }
  }
  if (s.error) return { error: s.error.message, failedNodeId: s.error.failedNodeId };
  return undefined;
}
