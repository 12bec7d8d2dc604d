import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

// Messages decoded from the wire, with the encoded size of the part the input-size metric reports.
const sizes = new WeakMap<object, number>();

/** The encoded size `message` had on the wire, when a {@link recordingFieldSize} decoder saw it. */
export function wireSizeOf(message: object | undefined): number | undefined {
  return message && sizes.get(message);
}

/**
 * Wraps a request decoder so that it also records, for the message in field `field` of the request
 * (a length-delimited field, such as CreateTaskRequest.inputs), its size as it came on the wire: the
 * input-size metric then needs no re-encoding of the inputs.
 */
export function recordingFieldSize<M>(
  decode: (bytes: Buffer) => M,
  field: number,
  messageOf: (request: M) => object | undefined,
): (bytes: Buffer) => M {
  return (bytes) => {
    const request = decode(bytes);
    const message = messageOf(request);
    if (message) sizes.set(message, fieldLength(bytes, field));
    return request;
  };
}

/** Total length of top-level length-delimited field `field` (protobuf merges repeated occurrences). */
function fieldLength(bytes: Uint8Array, field: number): number {
  const reader = new BinaryReader(bytes);
  let total = 0;
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === field && wireType === WireType.LengthDelimited) {
      const length = reader.uint32();
      total += length;
      reader.pos += length;
    } else {
      reader.skip(wireType, number);
    }
  }
  return total;
}
