/** A deploy step could not be done: a missing tool, an unreachable cluster, a failed check. */
export class DeployError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeployError";
  }
}
