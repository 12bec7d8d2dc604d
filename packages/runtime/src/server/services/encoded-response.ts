import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { LiteralMap } from "../../gen/flyteidl/core/literals.js";
import { checkOutputsEncode } from "../../types/task-literals.js";

/**
 * Encodes a response in the handler, once, so that a value that does not fit its protobuf type
 * fails the call with a status naming the output (grpc-js would answer a bare "Error serializing
 * response"); {@link passingEncoded} serializers hand the bytes on as they are. Typed as the message,
 * since that is what grpc-js's handler types expect.
 * @throws TypeTransformError naming the output literal that does not encode, else the encoder's error.
 */
export function encodeResponse<T>(
  codec: { encode(message: T, writer?: BinaryWriter): { finish(): Uint8Array } },
  message: T,
  outputs: LiteralMap | undefined,
): T {
  let bytes: Uint8Array;
  try {
    bytes = codec.encode(message, writer).finish();
  } catch (err) {
    // The writer may be left mid-message: start the next response on a fresh one.
    writer = new BinaryWriter();
    // Only now is each output encoded on its own, to say which one does not fit.
    if (outputs) checkOutputsEncode(outputs);
    throw err;
  }
  // A writer keeps the largest buffer it grew to: not one a large response needed.
  if (bytes.byteLength > keptWriterBytes) writer = new BinaryWriter();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as T;
}

/**
 * One writer for every response: a new one allocates and grows its buffer for each message, and
 * `finish()` copies the bytes out anyway. Encoding is synchronous, so calls never share it at once.
 */
let writer = new BinaryWriter();
const keptWriterBytes = 64 * 1024;

/** A response serializer that passes bytes from {@link encodeResponse} through unchanged. */
export function passingEncoded<T>(serialize: (value: T) => Buffer): (value: T) => Buffer {
  return (value) => (Buffer.isBuffer(value) ? value : serialize(value));
}
