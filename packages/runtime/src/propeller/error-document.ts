import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

// FlytePropeller reads a failed task's `{output_prefix}/error.pb` as a `core.ErrorDocument`
// (flyteplugins/go/tasks/pluginmachinery/ioutils/remote_file_output_reader.go, ReadError); flytekit
// writes it. Its rule lives here beside the other output rules, for the executor and conformance alike.

/** `flyteidl.core.ContainerError`, the content of `{output_prefix}/error.pb`. */
export interface ContainerErrorInfo {
  readonly code: string;
  readonly message: string;
  /** `RECOVERABLE` makes the failure retryable. */
  readonly kind: "NON_RECOVERABLE" | "RECOVERABLE";
  /** `ExecutionError.ErrorKind` (field 4): FlytePropeller records it as the error's kind. */
  readonly origin: "UNKNOWN" | "USER" | "SYSTEM";
}

const ORIGINS = ["UNKNOWN", "USER", "SYSTEM"] as const;

/**
 * Decodes an `ErrorDocument` (`flyteidl.core.ErrorDocument { ContainerError error = 1; }`). The agent
 * protos do not import errors.proto, so its generated code does not exist; the two messages are small
 * enough to read field by field.
 */
export function decodeErrorDocument(bytes: Uint8Array): ContainerErrorInfo {
  const reader = new BinaryReader(bytes);
  let error: ContainerErrorInfo = { code: "", message: "", kind: "NON_RECOVERABLE", origin: "UNKNOWN" };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) error = decodeContainerError(reader.bytes());
    else reader.skip(tag & 7);
  }
  return error;
}

function decodeContainerError(bytes: Uint8Array): ContainerErrorInfo {
  const reader = new BinaryReader(bytes);
  let code = "";
  let message = "";
  let kind = 0;
  let origin = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) code = reader.string();
    else if (field === 2 && (tag & 7) === 2) message = reader.string();
    else if (field === 3 && (tag & 7) === 0) kind = reader.int32();
    else if (field === 4 && (tag & 7) === 0) origin = reader.int32();
    else reader.skip(tag & 7);
  }
  return {
    code,
    message,
    kind: kind === 1 ? "RECOVERABLE" : "NON_RECOVERABLE",
    origin: ORIGINS[origin] ?? "UNKNOWN",
  };
}

/** Encodes an `ErrorDocument`: what a job writes to `{output_prefix}/error.pb` to fail the task. */
export function encodeErrorDocument(error: {
  readonly code: string;
  readonly message: string;
  readonly kind?: "NON_RECOVERABLE" | "RECOVERABLE";
  readonly origin?: "UNKNOWN" | "USER" | "SYSTEM";
}): Uint8Array {
  const inner = new BinaryWriter();
  if (error.code) inner.uint32(10).string(error.code);
  if (error.message) inner.uint32(18).string(error.message);
  if (error.kind === "RECOVERABLE") inner.uint32(24).int32(1);
  if (error.origin && error.origin !== "UNKNOWN") inner.uint32(32).int32(ORIGINS.indexOf(error.origin));
  return new BinaryWriter().uint32(10).bytes(inner.finish()).finish();
}
