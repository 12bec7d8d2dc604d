// The real `flyte-agent serve` binary as a child process whose JSON log lines can be awaited.
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type ResultPromise, execa } from "execa";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = path.join(root, "bin/flyte-agent.js");
/** `flyte-agent-serve`, the runtime package's binary: `flyte-agent serve` alone. */
export const serveBin = path.join(root, "packages/runtime/bin/flyte-agent-serve.js");

export type LogLine = Record<string, unknown> & { msg?: string };

/** A running `flyte-agent serve agent` process and its log. */
export interface ServeProcess {
  readonly child: ResultPromise<{ cwd: string; reject: false }>;
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly address: string;
  readonly lines: LogLine[];
  /** Resolves with the `n`-th line (counting from the start) that matches. */
  logged(match: string | ((l: LogLine) => boolean), n?: number): Promise<LogLine>;
  count(match: string | ((l: LogLine) => boolean)): number;
}

const matcher = (m: string | ((l: LogLine) => boolean)) =>
  typeof m === "string" ? (l: LogLine) => l.msg === m : m;

/**
 * Starts `flyte-agent serve <args>` (the built binary: `npm run build` first) and resolves once it
 * logs that it listens (or logs the `ready` message, which must carry the `port`); rejects with its
 * stderr if it exits first. `env` is added to the process's.
 */
export async function startServeProcess(
  args: readonly string[],
  options: {
    readonly env?: Readonly<Record<string, string>>;
    readonly ready?: string;
    /** The command before `args`. @default `flyte-agent serve` */
    readonly command?: readonly string[];
  } = {},
): Promise<ServeProcess> {
  const child = execa("node", [...(options.command ?? [bin, "serve"]), ...args], {
    cwd: root,
    reject: false,
    ...(options.env ? { env: options.env } : {}),
  });
  const lines: LogLine[] = [];
  const waiters: {
    match: (l: LogLine) => boolean;
    n: number;
    k: number;
    resolve: (l: LogLine) => void;
  }[] = [];
  createInterface({ input: child.stdout }).on("line", (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (!w.match(line)) continue;
      w.k += 1;
      if (w.k >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const count = (m: string | ((l: LogLine) => boolean)) => lines.filter(matcher(m)).length;
  const logged = (m: string | ((l: LogLine) => boolean), n = 1) =>
    new Promise<LogLine>((resolve, reject) => {
      const match = matcher(m);
      const found = lines.filter(match);
      if (found.length >= n) return resolve(found[n - 1]!);
      waiters.push({ match, n, k: found.length, resolve });
      void child.then((r) =>
        reject(new Error(`serve exited (${String(r.exitCode)}) before logging ${String(m)}: ${r.stderr}`)),
      );
    });
  const listening = await logged(options.ready ?? "agent server listening");
  return {
    child,
    port: listening.port as number,
    metricsPort: listening.metrics_port as number | undefined,
    address: `127.0.0.1:${String(listening.port)}`,
    lines,
    logged,
    count,
  };
}
