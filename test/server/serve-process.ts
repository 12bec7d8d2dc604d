// The real `flyte-agent serve` binary as a child process, with its JSON log lines to wait on.
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(root, "bin/flyte-agent.js");

/**
 * Starts `flyte-agent serve ...` (the built CLI: `npm run build` first) and resolves once it logs
 * that it listens. `logged(msg)` resolves with the first log line with that message.
 */
export async function startCli(args: readonly string[]) {
  const child = execa("node", [bin, "serve", ...args], { cwd: root, reject: false, all: false });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  createInterface({ input: child.stdout }).on("line", (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const logged = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const found = lines.find((l) => l.msg === msg);
      if (found) resolve(found);
      else waiters.push({ match: (l) => l.msg === msg, resolve });
    });
  /** Resolves once `n` log lines carry the message `msg`. */
  const loggedTimes = (msg: string, n: number) =>
    new Promise<void>((resolve) => {
      let seen = lines.filter((l) => l.msg === msg).length;
      if (seen >= n) return resolve();
      waiters.push({
        match: (l) => l.msg === msg && ++seen >= n,
        resolve: () => resolve(),
      });
    });
  const listening = await Promise.race([
    logged("agent server listening"),
    child.then((r) => {
      throw new Error(`serve exited early (${String(r.exitCode)}): ${String(r.stderr)}`);
    }),
  ]);
  return {
    child,
    lines,
    logged,
    loggedTimes,
    port: listening.port as number,
    metricsPort: listening.metrics_port as number,
  };
}
