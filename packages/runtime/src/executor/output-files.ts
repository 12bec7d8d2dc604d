import { LiteralMap } from "../gen/flyteidl/core/literals.js";
import { encodeErrorDocument } from "../propeller/error-document.js";
import { runStorage } from "../storage/run-storage.js";

/**
 * Writes `{outputPrefix}/outputs.pb` as FlytePropeller reads it, for agents whose job produces the
 * outputs itself (then `get` reports SUCCEEDED without `outputs`).
 */
export async function writeOutputsFile(outputPrefix: string, outputs: LiteralMap): Promise<void> {
  await runStorage.write(runStorage.join(outputPrefix, "outputs.pb"), LiteralMap.encode(outputs).finish());
}

/**
 * Writes `{outputPrefix}/error.pb`: FlytePropeller then fails the task even when the agent reports
 * SUCCEEDED (retryable when `kind` is RECOVERABLE).
 */
export async function writeErrorFile(
  outputPrefix: string,
  error: {
    readonly code: string;
    readonly message: string;
    readonly kind?: "NON_RECOVERABLE" | "RECOVERABLE";
    readonly origin?: "UNKNOWN" | "USER" | "SYSTEM";
  },
): Promise<void> {
  await runStorage.write(runStorage.join(outputPrefix, "error.pb"), encodeErrorDocument(error));
}
