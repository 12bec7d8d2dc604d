/**
 * The CLI's guard for its output streams. When the reader of stdout or stderr goes away (`| head`,
 * `| jq` that stopped reading), writes fail with EPIPE: the CLI must neither crash with a stack trace
 * nor keep a task running that nobody watches. The guard swallows EPIPE, remembers it, and fires
 * {@link outputClosed} so a command can stop its work cleanly (`run` deletes its task).
 */
const controller = new AbortController();
let installed = false;

/** Fires once when stdout or stderr has no reader any more. */
export const outputClosed: AbortSignal = controller.signal;

/** Installs the EPIPE guard on stdout and stderr (once per process). */
export function guardOutput(
  streams: readonly NodeJS.EventEmitter[] = [process.stdout, process.stderr],
): void {
  if (installed) return;
  installed = true;
  for (const stream of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") {
        if (!controller.signal.aborted) controller.abort(new Error("the output's reader went away"));
        return;
      }
      throw err;
    });
  }
}
