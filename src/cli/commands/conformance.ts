import { resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { ExitCode, UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";
import {
  configFlag,
  durationFlag,
  examplesHelp,
  listFlag,
  repeatFlag,
  type TlsFlags,
  tlsFromFlags,
} from "@flyte-agent/runtime/internal/cli/flags.js";

const CONFORMANCE_EXAMPLES = examplesHelp([
  ["flyte-agent conformance --endpoint localhost:8000", "server-wide checks of any agent server"],
  [
    "flyte-agent conformance --endpoint localhost:8000 --task-file task.ts --version 10",
    "and one task's whole lifecycle",
  ],
  ["flyte-agent conformance --endpoint agent.prod:443 --tls --json", "over TLS, as one JSON report"],
  [
    "flyte-agent conformance --endpoint localhost:8000 --flyte 2 --task-file task.ts --log-file server.log",
    "Flyte 2 only, with the server's log searched for secrets",
  ],
]);

/** Flags of `flyte-agent conformance` (besides the task's own inputs). */
interface ConformanceFlags extends TlsFlags {
  endpoint?: string[];
  taskFile?: string;
  task?: string;
  modules?: string[];
  outputPrefix?: string;
  pollInterval?: string;
  taskTimeout?: string;
  config?: string;
  json?: boolean;
  strict?: boolean;
  help?: boolean;
  flyte: string;
  secret: string[];
  logFile?: string;
}

/** Registers `flyte-agent conformance`. */
export function register(program: Command): void {
  program
    .command("conformance")
    .summary("check any agent server against what FlytePropeller needs from it")
    .description(
      "Checks an agent server — ours, flytekit's, or one in any other language — against FlytePropeller's " +
        "contract: health, ListAgents and GetAgent, NOT_FOUND for unknown task categories, and with " +
        "--task-file the whole lifecycle of one task (create twice, get until terminal, get idempotent, " +
        "delete idempotent, or one ExecuteTaskSync), outputs, response sizes and answer times against " +
        "FlytePropeller 1.16.8's deadlines (3 s per call by default; --config to use a ConfigMap's), judged as " +
        "propeller would: GetAgent problems only warn (propeller never calls it), GetTask errors count against its " +
        "budget of 6 per attempt (never reset), ExecuteTaskSync is read one message deep. Each check prints PASS, " +
        "FAIL, WARN or SKIP with the rule and the evidence. Flyte 2 servers (flyteidl2.connector) get the same " +
        "checks as Flyte 2's executor would judge them (ListConnectors, GetConnector, Create → Get → Delete with the " +
        "task's connection, GetTaskLogs, 10 s per call), and no secret value of the connection may appear in an " +
        "answer or in the --log-file; --flyte picks the protocols (default: every one the server serves).\n\n" +
        "Examples:\n" +
        "  flyte-agent conformance --endpoint localhost:8000\n" +
        "  flyte-agent conformance --endpoint localhost:8000 --task-file task.ts --n 3\n" +
        "  flyte-agent conformance --endpoint a:8000 --endpoint b:8000 --task-file task.ts --config flyte-propeller-config.yaml\n\n" +
        "Exit codes: 0 conforms (warnings allowed unless --strict), 1 a check failed, 2 usage.",
    )
    .usage("--endpoint <host:port> [--task-file <file> [--task <name>] [--<input> <value> ...]] [options]")
    .helpOption(false)
    .option("-h, --help", "show help (with --task-file: the task's inputs too)")
    .option(
      "--endpoint <host:port>",
      "the agent server; repeat it for each replica of one deployment to check they read each other's resource_meta",
      listFlag,
    )
    .option("--tls", "use TLS (system roots unless --ca-file)")
    .option("--ca-file <pem>", "CA certificate for TLS")
    .option("--cert-file <pem>", "client certificate for TLS")
    .option("--key-file <pem>", "client key for TLS")
    .option("--server-name <name>", "host name to verify in the server certificate")
    .option(
      "--task-file <file>",
      "a task file (TypeScript or JavaScript) whose task runs through the lifecycle checks",
    )
    .option("--task <name>", "which task of --task-file, when it defines several")
    .option(
      "-m, --modules <paths>",
      "modules to import before the task file: comma-separated or repeated",
      listFlag,
    )
    .option(
      "--output-prefix <prefix>",
      "where inputs and outputs go; the server must reach it (default: a local temp dir)",
    )
    .option("--poll-interval <duration>", "wait between GetTask calls", "500ms")
    .option("--task-timeout <duration>", "give up on a task that is not terminal after this long", "5m")
    .option(
      "--config <propeller.yaml>",
      "judge answer times by this FlytePropeller config's default deployment (its timeouts/defaultTimeout) and its storage.limits.maxDownloadMBs",
    )
    .option(
      "--flyte <1|2|auto>",
      "protocols to check: 1 (flyteidl.service), 2 (flyteidl2.connector) or auto (every one the server serves; UNIMPLEMENTED means not served)",
      "auto",
    )
    .option(
      "--secret <name=value>",
      "value of a secret the task's Flyte 2 connection names (repeatable); others get random values",
      repeatFlag,
      [],
    )
    .option(
      "--log-file <file>",
      "the server's log: searched for the connection's secret values after the checks",
    )
    .option("--json", "print the report as one JSON document")
    .option("--strict", "exit non-zero on warnings too")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (flags: ConformanceFlags, cmd: Command) => {
      await conformanceCommand(flags, cmd);
    });
}

async function conformanceCommand(flags: ConformanceFlags, cmd: Command): Promise<void> {
  const extra = cmd.args;
  let task;
  let inputs: Record<string, unknown> = {};
  if (flags.taskFile) {
    const { loadTaskFile, pickTask } = await import("../../executor/load-task-file.js");
    const { buildInputs, describeInputs } = await import("../render/task-inputs.js");
    task = pickTask(await loadTaskFile(flags.taskFile, { modules: flags.modules ?? [] }), flags.task);
    if (flags.help) {
      process.stdout.write(cmd.helpInformation() + CONFORMANCE_EXAMPLES);
      process.stdout.write(`\n${describeInputs(task)}\n`);
      return;
    }
    inputs = buildInputs(task, extra);
  } else {
    if (flags.help) {
      process.stdout.write(cmd.helpInformation() + CONFORMANCE_EXAMPLES);
      return;
    }
    if (flags.task) throw new UsageError("--task needs --task-file");
    if (extra.length > 0)
      throw new UsageError(`unexpected ${extra.join(" ")}: task inputs need --task-file (see --help)`);
  }
  const endpoints = flags.endpoint ?? [];
  if (endpoints.length === 0)
    throw new UsageError("name the agent server to check: flyte-agent conformance --endpoint host:port");
  const flyte = (["1", "2", "auto"] as const).find((f) => f === flags.flyte);
  if (!flyte) throw new UsageError(`--flyte must be 1, 2 or auto, got ${JSON.stringify(flags.flyte)}`);
  const secrets: Record<string, string> = {};
  for (const kv of flags.secret) {
    const i = kv.indexOf("=");
    if (i <= 0)
      throw new UsageError(`--secret takes NAME=VALUE, got ${JSON.stringify(kv.replace(/=.*/, "=…"))}`);
    secrets[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const pollIntervalMs = durationFlag("--poll-interval", flags.pollInterval);
  const taskTimeoutMs = durationFlag("--task-timeout", flags.taskTimeout);

  const config = await configFlag(flags.config);
  for (const w of config?.warnings ?? []) process.stderr.write(`warning [config]: ${w.key}: ${w.message}\n`);
  const { checkConformance } = await import("../../conformance/index.js");
  const { createConformanceRenderer } = await import("../render/conformance-renderer.js");
  const renderer = createConformanceRenderer({ json: flags.json === true, out: process.stdout });
  const [primary] = endpoints;
  renderer.start(
    endpoints.length > 1 ? `${primary} and ${endpoints.length - 1} more replica(s)` : primary!,
    task
      ? `task ${task.name}, type ${task.taskType} v${task.taskTypeVersion}`
      : "server checks only; add --task-file for the task lifecycle",
  );
  const report = await checkConformance({
    endpoint: endpoints,
    tls: tlsFromFlags(flags),
    ...(task ? { task, inputs } : {}),
    // A plain path is sent absolute: the server does not share our working directory.
    ...(flags.outputPrefix
      ? {
          outputPrefix: /^[a-z][a-z0-9+.-]*:\/\//i.test(flags.outputPrefix)
            ? flags.outputPrefix
            : resolvePath(flags.outputPrefix),
        }
      : {}),
    ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
    ...(taskTimeoutMs !== undefined ? { taskTimeoutMs } : {}),
    ...(config ? { config } : {}),
    // A connector-service section is what Flyte 2's executor reads too.
    ...(config?.flavor === "connector-service" ? { connectorConfig: config } : {}),
    flyte,
    secrets,
    ...(flags.logFile ? { logFile: flags.logFile } : {}),
    onCheck: (check) => renderer.onCheck(check),
  });
  renderer.finish(report);
  if (!report.ok || (flags.strict && report.counts.warn > 0)) process.exitCode = ExitCode.FAILURE;
}
