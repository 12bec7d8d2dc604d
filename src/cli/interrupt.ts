/**
 * Ctrl-C during a run, as `run` and `run --replay` handle it: the first aborts `controller` (the
 * executor then sends DeleteTask) and says so; a second leaves at once with the default behaviour.
 * Returns the function that removes the handler.
 */
export function interruptOnSigint(controller: AbortController, note: (text: string) => void): () => void {
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      note("interrupting: deleting the task (press Ctrl-C again to exit at once)");
      controller.abort();
      return;
    }
    process.off("SIGINT", onSigint);
    process.kill(process.pid, "SIGINT");
  };
  process.on("SIGINT", onSigint);
  return () => process.off("SIGINT", onSigint);
}
