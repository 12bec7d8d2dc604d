// The CLI's `main` run inside the test process, with its output captured: the same argument parsing,
// commands, error messages and exit codes as the binary, without starting a Node process (and
// loading the CLI) for every case. The binary itself keeps a few smoke tests per command.
import { main } from "../../src/cli/main.js";

/** What one CLI run printed and returned. */
export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCliInProcess}. */
export interface CliInProcessOptions {
  /** The working directory during the run. @default the current one */
  readonly cwd?: string;
  /** Environment variables set during the run (`undefined` removes one); restored afterwards. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `flyte-agent <args>` through the CLI's `main` in this process. Runs are serialised: each
 * borrows the process's stdout, stderr, working directory, environment and exit code while it runs.
 */
export function runCliInProcess(
  args: readonly string[],
  options: CliInProcessOptions = {},
): Promise<CliResult> {
  const run = queue.then(() => runNow(args, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runNow(args: readonly string[], options: CliInProcessOptions): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const capture =
    (into: string[]) =>
    (chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
      into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    };
  const cwd = process.cwd();
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(options.env ?? {})) {
    saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  // Own properties shadow the streams' write methods; the previous own ones (if any) come back after.
  const own = {
    out: Object.getOwnPropertyDescriptor(process.stdout, "write"),
    err: Object.getOwnPropertyDescriptor(process.stderr, "write"),
  };
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  process.exitCode = undefined;
  try {
    if (options.cwd) process.chdir(options.cwd);
    const exitCode = await main(["node", "flyte-agent", ...args]);
    return { exitCode, stdout: out.join(""), stderr: err.join("") };
  } finally {
    restore(process.stdout, own.out);
    restore(process.stderr, own.err);
    process.exitCode = undefined;
    process.chdir(cwd);
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

function restore(stream: NodeJS.WriteStream, descriptor: PropertyDescriptor | undefined): void {
  if (descriptor) Object.defineProperty(stream, "write", descriptor);
  else delete (stream as Partial<NodeJS.WriteStream>).write;
}
