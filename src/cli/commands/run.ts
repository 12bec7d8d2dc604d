import type { Command } from "commander";
import { ExitCode, UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";
import {
  checkEndpointReachable,
  configFlag,
  durationFlag,
  retriesFlag,
  listFlag,
  repeatFlag,
  type TlsFlags,
  tlsFromFlags,
  examplesHelp,
} from "@flyte-agent/runtime/internal/cli/flags.js";
import { interruptOnSigint } from "../interrupt.js";

const RUN_EXAMPLES = examplesHelp([
  [
    "flyte-agent run tasks.ts dailyTotals --day 2024-05-01",
    "in-process: the file's agents on a loopback port",
  ],
  ["flyte-agent run tasks.ts --help", "the task's inputs and their types"],
  ["flyte-agent run tasks.ts --day now --endpoint localhost:8000", "an agent server running elsewhere"],
  ["flyte-agent run tasks.ts --day now --config propeller.yaml", "route as FlytePropeller's configmap says"],
  ["flyte-agent run tasks.ts --day now --flyte 2", "through Flyte 2's connector executor (flyteidl2)"],
  ["flyte-agent run tasks.ts --day now --json | jq .", "one JSON object per event, then the result"],
]);

/** Flags of `flyte-agent run` (besides the task's own inputs). */
interface RunFlags extends TlsFlags {
  endpoint?: string;
  config?: string;
  modules: string[];
  timeout?: string;
  retries?: string;
  pollInterval?: string;
  propellerTiming?: boolean;
  reproduceStuckTask?: boolean;
  strict?: boolean;
  verbose?: boolean;
  json?: boolean;
  outputDir?: string;
  keep?: boolean;
  quiet?: boolean;
  env: string[];
  help?: boolean;
  replay?: string;
  outputPrefix?: string;
  flyte?: string;
}

/** `--flyte`: which executor's rules the run follows. */
function flyteFlag(value: string | undefined): 1 | 2 | undefined {
  if (value === undefined) return undefined;
  if (value === "1" || value === "2") return Number(value) as 1 | 2;
  throw new UsageError(
    `--flyte must be 1 (FlytePropeller's agent plugin) or 2 (Flyte 2's connector plugin), got "${value}"`,
  );
}

/** Splits the tokens commander left alone into file, task name and `--input value` pairs. */
function splitArgs(args: readonly string[]): { file?: string; task?: string; rest: string[] } {
  const rest = [...args];
  const file = rest[0] !== undefined && !rest[0].startsWith("-") ? rest.shift() : undefined;
  const task = file && rest[0] !== undefined && !rest[0].startsWith("-") ? rest.shift() : undefined;
  return { ...(file ? { file } : {}), ...(task ? { task } : {}), rest };
}

/** Registers `flyte-agent run`. */
export function register(program: Command): void {
  program
    .command("run")
    .summary("run a task through the FlytePropeller-like loop (create → get → outputs)")
    .description(
      "Loads a task file (TypeScript or JavaScript, no build step) or a task declared in Python (the .tgz " +
        "`pyflyte package` writes, a TaskSpec/TaskTemplate .pb, or `flytectl get task -o json|yaml` output; " +
        "inputs also from --inputs inputs.pb|inputs.json), builds the inputs from --<input> flags " +
        "and runs the task as FlytePropeller would: in-process over a real loopback gRPC server by default, " +
        "against --endpoint, or routed by a propeller --config (read as FlytePropeller reads it: map keys such as " +
        "`timeouts: {GetTask: 5s}` are lowercased and lost; a warning names each such key and shows the list form " +
        "that works). `run <file> --help` lists the task's inputs.\n\n" +
        "Examples:\n" +
        "  flyte-agent run task.ts --day 2024-05-01\n" +
        "  flyte-agent run task.ts --endpoint localhost:8000 --propeller-timing\n" +
        "  flyte-agent run task.ts --config flyte-propeller-config.yaml --strict\n" +
        "  flyte-agent run task.ts --version 10 --flyte 2\n" +
        "  flyte-agent run --replay records/<file>.pb --modules src/agent.ts\n\n" +
        "Exit codes: 0 succeeded, 1 failed or timed out, 2 usage, 130 interrupted (Ctrl-C).",
    )
    .usage("<file> [task-name] [--<input> <value> ...] [options]")
    .helpOption(false)
    .option("-h, --help", "show help (after a file: the task's inputs too)")
    .option("--endpoint <host:port>", "drive an agent server already running there")
    .option("--tls", "use TLS towards --endpoint (system roots unless --ca-file)")
    .option("--ca-file <pem>", "CA certificate for TLS")
    .option("--cert-file <pem>", "client certificate for TLS")
    .option("--key-file <pem>", "client key for TLS")
    .option("--server-name <name>", "host name to verify in the server certificate")
    .option(
      "--config <propeller.yaml>",
      "route as FlytePropeller would from its agent-service/connector-service config (with --flyte 2: Flyte 2's connector-service section)",
    )
    .option(
      "--flyte <1|2>",
      "which executor to behave like: 1 = FlytePropeller 1.16's agent plugin (flyteidl.service), " +
        "2 = Flyte 2's connector plugin (flyteidl2.connector: 10s deadlines, the connection read from the task's config " +
        "with its secrets resolved locally, no sync service). Default 1. Example: --flyte 2",
    )
    .option(
      "-m, --modules <paths>",
      "modules to import first (agent registrations), comma-separated",
      listFlag,
      [],
    )
    .option(
      "--timeout <duration>",
      "the task timeout, as FlytePropeller applies it: per attempt (DeleteTask, then a retryable TimeoutExpired), and 2x it over all attempts (TimedOut); default: the task's timeout",
    )
    .option("--retries <n>", "retries after a retryable failure (default: the task's)")
    .option("--poll-interval <duration>", "first wait between GetTask calls (default 200ms, growing to 2s)")
    .option(
      "--propeller-timing",
      "poll like FlytePropeller: every resyncInterval (30s), errors included, through its rate limiter. " +
        "Without it GetTask is polled after 200ms growing to 2s, and a failed GetTask is retried after 1, 2, 4, 8, 16s: " +
        "the 6 failures FlytePropeller allows per attempt span 31s, so an agent restart of up to 20s is survived as on a cluster",
    )
    .option("--reproduce-stuck-task", "hang like FlytePropeller after GetTask's failure budget is spent")
    .option("--strict", "fail the run on contract warnings")
    .option(
      "--verbose",
      "also show log-link/custom_info changes within a phase (marked: a cluster's console does not show them until the phase changes)",
    )
    .option("--json", "print one JSON object per event and a final result")
    .option(
      "--output-dir <dir>",
      "where inputs and output prefixes go, kept (default: a temp dir, removed at the end)",
    )
    .option("--keep", "keep the temp dir with inputs and outputs (its path is printed)")
    .option(
      "-q, --quiet",
      "hide the agent's logs (shown on stderr for in-process runs: readable on a terminal, JSON with --json; level from $LOG_LEVEL)",
    )
    .option(
      "--env <KEY=VALUE>",
      "environment variable for the task execution metadata (repeatable)",
      repeatFlag,
      [],
    )
    .option(
      "--replay <file>",
      "send a request `serve --record` wrote exactly as recorded (template not rendered again, same task execution metadata); only the output prefix is local",
    )
    .option("--output-prefix <prefix>", "with --replay: the output prefix to send (default: a local one)")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (flags: RunFlags, cmd: Command) => {
      const flyte = flyteFlag(flags.flyte);
      if (flags.replay !== undefined && flyte === 2)
        throw new UsageError("--replay sends Flyte 1 records; it does not go with --flyte 2");
      if (flags.replay !== undefined && !flags.help) {
        const { replayRun } = await import("../replay-run.js");
        await replayRun({ ...flags, replay: flags.replay }, cmd.args);
        return;
      }
      if (flags.outputPrefix !== undefined) throw new UsageError("--output-prefix goes with --replay <file>");
      const { file, task: taskName, rest } = splitArgs(cmd.args);
      if (!file) {
        if (flags.help) {
          process.stdout.write(cmd.helpInformation() + RUN_EXAMPLES);
          return;
        }
        throw new UsageError("name a task file: flyte-agent run <file> [task-name] [--<input> <value> ...]");
      }
      await runCommand(file, taskName, rest, flags, cmd);
    });
}

async function runCommand(
  file: string,
  taskName: string | undefined,
  inputArgs: string[],
  flags: RunFlags,
  cmd: Command,
): Promise<void> {
  const { loadTaskFile, pickTask } = await import("../../executor/load-task-file.js");
  const { buildInputs, describeInputs } = await import("../render/task-inputs.js");
  const taskSpec = await import("../task-spec-run.js");
  if (flags.endpoint && flags.config) throw new UsageError("use either --endpoint or --config, not both");
  // A task declared in Python (pyflyte package .tgz, TaskSpec/TaskTemplate .pb, flytectl JSON/YAML).
  const spec = taskSpec.taskSpecFormatOf(file)
    ? await taskSpec.loadTaskSpecRun(file, taskName, inputArgs, {
        modules: flags.modules,
        inProcess: !flags.endpoint && !flags.config,
        help: flags.help === true,
      })
    : undefined;
  const task = spec?.task ?? pickTask(await loadTaskFile(file, { modules: flags.modules }), taskName);
  if (flags.help) {
    process.stdout.write(cmd.helpInformation() + RUN_EXAMPLES);
    process.stdout.write(`\n${spec ? taskSpec.describeTemplateInputs(task) : describeInputs(task)}\n`);
    return;
  }
  const inputs = spec?.inputs ?? buildInputs(task, spec?.inputArgs ?? inputArgs);
  const timeoutMs = durationFlag("--timeout", flags.timeout);
  const pollIntervalMs = durationFlag("--poll-interval", flags.pollInterval);
  const retries = retriesFlag(flags.retries);
  const env: Record<string, string> = {};
  for (const kv of flags.env) {
    const at = kv.indexOf("=");
    if (at <= 0) throw new UsageError(`--env must be KEY=VALUE, got "${kv}"`);
    env[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const flyte = flyteFlag(flags.flyte);
  const config = await configFlag(flags.config, flyte ? { flyte } : {});
  const tls = tlsFromFlags(flags);
  if (flags.endpoint) await checkEndpointReachable("--endpoint", flags.endpoint);

  // In-process runs serve the file's agents on a loopback port whose logs are the agent's side of the
  // run: context.logger output and the stack of an exception, on stderr (not with -q).
  let inProcess: { address: string; shutdown(graceMs?: number): Promise<void> } | undefined;
  if (!flags.endpoint && !config) {
    const [{ AgentServer }, { AgentRegistry }, { createServerLogger }, { prettyLogStream }] =
      await Promise.all([
        import("@flyte-agent/runtime/internal/server/server.js"),
        import("@flyte-agent/runtime/internal/core/registry.js"),
        import("@flyte-agent/runtime/internal/server/logger.js"),
        import("@flyte-agent/runtime/internal/cli/render/pretty-log.js"),
      ]);
    const level = flags.quiet ? "silent" : process.env.LOG_LEVEL || "info";
    const readable = !flags.json && process.stderr.isTTY === true;
    const logger = await createServerLogger({
      level,
      destination: readable
        ? prettyLogStream({ out: process.stderr, color: !process.env.NO_COLOR, prefix: "agent " })
        : process.stderr,
    });
    inProcess = await AgentServer.start({
      host: "127.0.0.1",
      port: 0,
      registry: AgentRegistry.default,
      logger,
    });
  }
  const { executeTask } = await import("../../executor/execute-task.js");
  const { createRunRenderer } = await import("../render/run-renderer.js");
  const renderer = createRunRenderer({ json: flags.json === true, out: process.stdout, err: process.stderr });
  // Inputs and outputs go to a temp dir of this run, removed at the end (unless --keep): a local run
  // must not leave a directory behind every time.
  const { mkdtemp, rm } = await import("node:fs/promises");
  const os = await import("node:os");
  const path = await import("node:path");
  const outputDir = flags.outputDir ?? (await mkdtemp(path.join(os.tmpdir(), "flyte-agent-run-")));
  const removeOutputDir = flags.outputDir === undefined && flags.keep !== true;
  const controller = new AbortController();
  // A reader that went away (`| head`) stops the run like Ctrl-C does: DeleteTask, then exit.
  const { outputClosed } = await import("@flyte-agent/runtime/internal/cli/output.js");
  const onOutputClosed = () => controller.abort();
  outputClosed.addEventListener("abort", onOutputClosed, { once: true });
  const stopInterrupts = interruptOnSigint(controller, (text) => renderer.note(text));
  try {
    const result = await executeTask({
      task,
      inputs: inputs,
      ...(flags.endpoint ? { endpoint: flags.endpoint, tls } : {}),
      ...(inProcess ? { endpoint: inProcess.address } : {}),
      ...(config ? { config, tls } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
      outputDir,
      propellerTiming: flags.propellerTiming === true,
      reproduceStuckTask: flags.reproduceStuckTask === true,
      strict: flags.strict === true,
      midPhaseEvents: flags.verbose === true,
      env,
      ...(flyte ? { flyte } : {}),
      signal: controller.signal,
      onEvent: (e) => renderer.onEvent(e),
    });
    // Notes first: with --json the result stays the last line.
    if (flags.keep && flags.outputDir === undefined) renderer.note(`inputs and outputs kept in ${outputDir}`);
    else if (removeOutputDir && Object.keys(result.outputs).length > 0) {
      // Outputs may point into the run's own directory (a dataset's uri), which is about to go.
      renderer.note(
        `the run's files (${outputDir}) are removed now: add --keep or --output-dir <dir> to keep them`,
      );
    }
    renderer.finish(result);
    if (result.interrupted === "interrupted") process.exitCode = ExitCode.INTERRUPTED;
    else if (!result.succeeded) process.exitCode = ExitCode.FAILURE;
  } finally {
    await inProcess?.shutdown(1000);
    if (removeOutputDir) await rm(outputDir, { recursive: true, force: true });
    stopInterrupts();
    outputClosed.removeEventListener("abort", onOutputClosed);
  }
}
