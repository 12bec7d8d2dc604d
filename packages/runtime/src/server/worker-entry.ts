// The program each worker process of `serveWorkers` runs (node:cluster forks it with the primary's
// Node.js flags). It serves until the primary tells it to drain, then lets the process end.
import cluster from "node:cluster";
import { runWorker } from "./workers.js";

const done = (code: number): void => {
  process.exitCode = code;
  // The IPC channel is the last thing keeping the process alive; closing it from this side tells the
  // primary the exit was planned.
  cluster.worker?.disconnect();
};

runWorker().then(done, (err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  done(1);
});
