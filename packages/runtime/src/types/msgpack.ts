import type * as MsgpackModule from "@msgpack/msgpack";
import { createRequire } from "node:module";
import { isPlainObject } from "../core/plain-object.js";
import type { Literal } from "../gen/flyteidl/core/literals.js";
import { childPath, describeValue, indexPath, TypeTransformError } from "./errors.js";
import { toJsonValue } from "./json-value.js";
import { scalarLiteral } from "./literal.js";
import { pythonIsoFormat } from "./precise-date.js";

type MsgpackCodec = typeof MsgpackModule;
let loaded: MsgpackCodec | undefined;
/**
 * The msgpack codec, loaded at the first msgpack value: most agents never see one, and importing the
 * package root should not cost its memory (`npm run bench:runtime-size`).
 */
function msgpack(): MsgpackCodec {
  return (loaded ??= createRequire(import.meta.url)("@msgpack/msgpack") as MsgpackCodec);
}

/**
 * `Binary.tag` of flytekit's msgpack literals (flytekit `core/constants.py`: `MESSAGEPACK = "msgpack"`).
 */
export const MSGPACK_TAG = "msgpack";

/**
 * How a struct value (an object schema, an untyped object) is written. Since flytekit 1.14 a
 * dataclass, a Pydantic model and an untyped dict are `Scalar.binary{msgpack bytes, tag "msgpack"}`
 * (flytekit `core/type_engine.py` `DataclassTransformer.to_literal`, `DictTransformer.dict_to_binary_literal`);
 * before, and with `FLYTE_USE_OLD_DC_FORMAT=true`, a `google.protobuf.Struct` (`Scalar.generic`).
 * flytekit 1.14+ reads both; older flytekit reads only the Struct.
 */
export const StructFormat = {
  /** `Scalar.binary` with msgpack bytes: what flytekit >= 1.14 writes. */
  MSGPACK: "msgpack",
  /** `Scalar.generic` (`google.protobuf.Struct`): what flytekit < 1.14 reads and writes. */
  STRUCT: "struct",
} as const;
export type StructFormat = (typeof StructFormat)[keyof typeof StructFormat];

/**
 * The struct format to write when none is given: `struct` when `FLYTE_USE_OLD_DC_FORMAT` is true
 * (`true`, `t` or `1`, any case, as flytekit's `str2bool` reads it), else `msgpack`.
 */
export function defaultStructFormat(env: NodeJS.ProcessEnv = process.env): StructFormat {
  const flag = env.FLYTE_USE_OLD_DC_FORMAT?.toLowerCase();
  return flag === "true" || flag === "t" || flag === "1" ? StructFormat.STRUCT : StructFormat.MSGPACK;
}

interface Site {
  readonly path: string;
  readonly label: string;
}

const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * Decodes msgpack bytes written by flytekit into plain JS values: maps → objects, arrays, strings,
 * booleans, `null`, floats as numbers, integers as numbers when a double holds them exactly and as
 * `bigint` beyond, bytes as `Buffer`.
 * @throws TypeTransformError naming the field when the bytes are not msgpack.
 */
export function decodeMsgpack(bytes: Uint8Array, site: Site = { path: "value", label: "value" }): unknown {
  let raw: unknown;
  try {
    raw = msgpack().decode(bytes, { useBigInt64: true });
  } catch (err) {
    throw new TypeTransformError(site.path, `the msgpack bytes do not decode: ${(err as Error).message}`, {
      label: site.label,
      cause: err,
    });
  }
  return fromMsgpack(raw);
}

function fromMsgpack(value: unknown): unknown {
  if (typeof value === "bigint") {
    const safe = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
    return safe ? Number(value) : value;
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(fromMsgpack);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromMsgpack(v);
    return out;
  }
  return value;
}

/**
 * Encodes a plain JS value as msgpack the way flytekit's msgpack writer would read it back: objects as
 * maps (undefined fields dropped), integers as msgpack ints (`bigint` up to the uint64 range), other
 * numbers as float64, bytes as bin, `Date`s as the ISO strings mashumaro writes for a datetime.
 * @throws TypeTransformError naming the field msgpack cannot hold.
 */
export function encodeMsgpack(value: unknown, site: Site = { path: "value", label: "value" }): Buffer {
  const bytes = msgpack().encode(toMsgpack(value, site.path, site.label), { useBigInt64: true });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toMsgpack(value: unknown, path: string, label: string): unknown {
  const fail = (detail: string): never => {
    throw new TypeTransformError(path, detail, { label });
  };
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
    case "number":
      return value;
    case "bigint":
      if (value < INT64_MIN || value > UINT64_MAX) fail(`${value}n does not fit a msgpack integer`);
      // Small bigints go out as the compact int formats, as Python writes them.
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value;
    case "object":
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) fail("invalid Date");
        return pythonIsoFormat(value);
      }
      if (value instanceof Uint8Array) return value;
      if (Array.isArray(value)) return value.map((v, i) => toMsgpack(v, indexPath(path, i), label));
      if (isPlainObject(value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
          if (v !== undefined) out[k] = toMsgpack(v, childPath(path, k), label);
        }
        return out;
      }
      return fail(`msgpack cannot hold a ${describeValue(value)}`);
    default:
      return fail(`msgpack cannot hold a ${typeof value}`);
  }
}

/**
 * The literal of a struct value in the given format: msgpack `Binary` (flytekit >= 1.14) or a
 * `google.protobuf.Struct` (older flytekit).
 * @throws TypeTransformError naming the field the format cannot hold.
 */
export function structLiteral(value: unknown, format: StructFormat, site: Site): Literal {
  if (format === StructFormat.STRUCT) {
    return scalarLiteral({ generic: toJsonValue(value, site) as Record<string, unknown> });
  }
  return scalarLiteral({ binary: { value: encodeMsgpack(value, site), tag: MSGPACK_TAG } });
}

/**
 * The value of a struct literal in either form flytekit writes (msgpack `Binary` or generic `Struct`),
 * or undefined when the literal is neither.
 * @throws TypeTransformError for a binary literal with a tag other than `msgpack`, or bad bytes.
 */
export function readStructLiteral(lit: Literal | undefined, site: Site): unknown {
  const scalar = lit?.scalar;
  if (scalar?.generic) return scalar.generic;
  const binary = scalar?.binary;
  if (!binary) return undefined;
  if (binary.tag !== MSGPACK_TAG) {
    throw new TypeTransformError(
      site.path,
      `binary literal with tag ${JSON.stringify(binary.tag)} cannot be read (only "${MSGPACK_TAG}" is)`,
      { label: site.label },
    );
  }
  return decodeMsgpack(binary.value, site);
}
