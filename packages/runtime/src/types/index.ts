export {
  dateToTimestamp,
  durationToMs,
  type DurationSyntaxOptions,
  formatDuration,
  msToDuration,
  parseDuration,
  timestampToDate,
} from "./duration.js";
export { TypeTransformError } from "./errors.js";
export {
  BlobDimensionality,
  flyte,
  flyteTypeRegistry,
  getFlyteTypeMeta,
  type BlobOptions,
  type BlobValue,
  type FlyteTypeMeta,
  type FlyteTypeRegistryEntry,
  type StructuredDatasetOptions,
  type StructuredDatasetValue,
} from "./flyte-schemas.js";
export {
  fromLiteral,
  fromLiteralMap,
  literal,
  noneLiteral,
  scalarLiteral,
  toLiteral,
  toLiteralMap,
  type LiteralMapOptions,
  type ToLiteralOptions,
  type SchemaShape,
  type ShapeInput,
  type ShapeOutput,
} from "./literal.js";
export { plainToLiteral, type PlainToLiteralOptions } from "./plain-to-literal.js";
export { toJsonValue, type JsonValueOptions } from "./json-value.js";
export { decodeMsgpack, defaultStructFormat, encodeMsgpack, MSGPACK_TAG, StructFormat } from "./msgpack.js";
export { PreciseDate } from "./precise-date.js";
export { decodeInputs, encodeOutputs } from "./task-literals.js";
export { literalToPlain } from "./literal-to-plain.js";
export { describeType, toLiteralType, toVariableMap } from "./literal-type.js";
export { parseInputString, type ParseInputOptions } from "./parse-input.js";
export type { AnySchema } from "./schema-kind.js";
