import { fileURLToPath } from "node:url";
import { type Command, Option } from "commander";
import type { Logger } from "../../core/context.js";
import type { AgentRegistry } from "../../core/registry.js";
import type { ServeOptions } from "../../server/serve.js";
import { CliError, UsageError } from "../errors.js";
import { requestExitBackstop } from "../exit-backstop.js";
import { listFlag, secondsFlag } from "../flags.js";
import { packageVersion } from "../version.js";

/** Flags of `flyte-agent serve agent` as commander parses them. */
interface ServeFlags {
  port: string;
  host: string;
  modules?: string[];
  taskTypes?: string[];
  builtin?: string[];
  prometheusPort?: string;
  prometheus_port?: string;
  prometheus: boolean;
  timeout?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  maxMessageSize?: string;
  keepaliveTime?: string;
  keepaliveTimeout?: string;
  maxConnectionAge?: string;
  maxConnectionAgeGrace?: string;
  maxConcurrent: string;
  gracePeriod: string;
  discover: boolean;
  reflection: boolean;
  banner: boolean;
  logLevel?: string;
  worker?: string;
  workers: string;
  record?: string;
  recordMaxFiles?: string;
  recordMaxBytes?: string;
}

function number(flag: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be a non-negative ${integer ? "integer" : "number"}, got "${text}"`);
  }
  return n;
}

const sizeUnits: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
};

/** pino's levels, which `--log-level` and `LOG_LEVEL` take. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Reads a PEM file given to `flag` and checks it holds a `kind` block, naming the file when not. */
async function checkPem(flag: string, file: string, kind: "CERTIFICATE" | "PRIVATE KEY"): Promise<void> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read ${flag} ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path`,
    );
  }
  const crypto = await import("node:crypto");
  try {
    if (kind === "CERTIFICATE") new crypto.X509Certificate(text);
    else crypto.createPrivateKey(text);
  } catch {
    throw new UsageError(
      `${flag} ${file} is not a PEM ${kind === "CERTIFICATE" ? "certificate" : "private key"}: give the file that starts with -----BEGIN ${kind === "CERTIFICATE" ? "CERTIFICATE" : "PRIVATE KEY"}-----`,
    );
  }
}

/** `4194304`, `4MiB`, `16MB`, `512KiB`. */
function size(text: string | undefined, flag = "--max-message-size"): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? sizeUnits[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`${flag} must be a size in bytes such as 4194304, 4MiB or 16MB, got "${text}"`);
  }
  return Math.round(Number(m[1]) * unit);
}

/** `--workers`: a count, or `auto` for the container's CPUs. */
async function workerCount(text: string): Promise<number> {
  if (text.trim() === "auto") return (await import("../../server/available-cpus.js")).availableCpus();
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < 1) {
    throw new UsageError(`--workers must be a whole number of at least 1 or "auto", got "${text}"`);
  }
  return n;
}

function addServeCommand(parent: Command, name: string, description: string): void {
  // The examples name the command as typed: `flyte-agent serve agent` or `flyte-agent-serve agent`.
  const prefix = parent.parent ? `${parent.parent.name()} ${parent.name()}` : parent.name();
  parent
    .command(name)
    .description(description)
    .option("-p, --port <port>", "gRPC port (0 picks a free one)", "8000")
    .option("--host <host>", "address to listen on", "0.0.0.0")
    .option(
      "-m, --modules <module>",
      "files (.js/.ts) or packages to import to register agents; comma-separated or repeated",
      listFlag,
    )
    .option(
      "--task-types <categories>",
      'serve only these task categories ("bigquery", "bigquery_v1"); comma-separated or repeated',
      listFlag,
    )
    .option("--prometheus-port <port>", "port of the Prometheus /metrics endpoint (default: 9090)")
    .addOption(new Option("--prometheus_port <port>").hideHelp())
    .option("--no-prometheus", "do not serve metrics")
    .option("--timeout <duration>", "drain and stop after this long, e.g. 10m or 30 (seconds); for tests")
    .option("--tls-cert <file>", "PEM certificate chain: serve TLS")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option("--tls-client-ca <file>", "PEM CA bundle: require client certificates it signed (mutual TLS)")
    .option(
      "--max-message-size <size>",
      "largest message received or sent (e.g. 16MiB; default: 4MiB received)",
    )
    .option("--keepalive-time <duration>", "ping idle connections this often (default: never)")
    .option(
      "--keepalive-timeout <duration>",
      "drop a connection whose ping is not answered in time (default: 20s)",
    )
    .option(
      "--max-connection-age <duration>",
      "ask clients to reconnect after this long, so new replicas get traffic (default: never)",
    )
    .option("--max-connection-age-grace <duration>", "time calls get to finish after that (default: 30s)")
    .option(
      "--max-concurrent <n>",
      "calls in flight beyond which new ones get RESOURCE_EXHAUSTED (0: no limit)",
      "1000",
    )
    .option("--grace-period <duration>", "on SIGTERM/SIGINT, time in-flight calls get to finish", "20s")
    .option(
      "--builtin <names>",
      "also serve built-in agents: sensor, webhook, or all; comma-separated or repeated (none by default)",
      listFlag,
    )
    .option("--no-discover", "do not import modules declared in package.json files (flyteAgent.modules)")
    .option("--no-reflection", "do not serve gRPC reflection")
    .option("--no-banner", "do not print the table of agents at start")
    .option(
      "--record <dir>",
      "write every Flyte 1 CreateTask/ExecuteTaskSync request served to <dir> (env values and secret-looking keys redacted), for `flyte-agent run --replay <file>`; Flyte 2 calls are not recorded",
    )
    .option("--record-max-files <n>", "records kept in --record <dir>, oldest deleted first (default: 1000)")
    .option(
      "--record-max-bytes <size>",
      "total size of the records kept, oldest deleted first (e.g. 64MiB; default: 256MiB)",
    )
    .option("--log-level <level>", "trace | debug | info | warn | error (default: info, or $LOG_LEVEL)")
    .option(
      "--workers <n>",
      'processes sharing the port: a number, or "auto" for the container\'s CPU limit',
      "1",
    )
    .addOption(
      new Option(
        "--worker <n>",
        "accepted for pyflyte compatibility; one event loop serves every call",
      ).hideHelp(),
    )
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        `  ${prefix} agent -m dist/agent.js                     # as pyflyte serve agent, on port 8000`,
        `  ${prefix} agent -m src/agent.ts --task-types bigquery # a canary serving one task type`,
        `  ${prefix} agent --builtin sensor --port 0 --timeout 10m`,
        "",
      ].join("\n"),
    )
    .action(async (flags: ServeFlags) => {
      const { parseBuiltinAgentNames, registerBuiltinAgents } =
        await import("../../builtin/builtin-agents.js");
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
        throw new UsageError("--tls-cert and --tls-key go together: pass both to serve TLS");
      }
      if (flags.tlsClientCa && !flags.tlsCert) {
        throw new UsageError("--tls-client-ca needs --tls-cert and --tls-key");
      }
      const logLevel = flags.logLevel ?? (process.env.LOG_LEVEL || undefined);
      if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) {
        const source = flags.logLevel !== undefined ? "--log-level" : "LOG_LEVEL";
        throw new UsageError(`${source} must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
      }
      if (flags.tlsCert && flags.tlsKey) {
        await checkPem("--tls-cert", flags.tlsCert, "CERTIFICATE");
        await checkPem("--tls-key", flags.tlsKey, "PRIVATE KEY");
        if (flags.tlsClientCa) await checkPem("--tls-client-ca", flags.tlsClientCa, "CERTIFICATE");
      }
      if (!flags.record && (flags.recordMaxFiles !== undefined || flags.recordMaxBytes !== undefined)) {
        throw new UsageError("--record-max-files and --record-max-bytes need --record <dir>");
      }
      const recordMaxFiles = number("--record-max-files", flags.recordMaxFiles, true);
      const recordMaxBytes = size(flags.recordMaxBytes, "--record-max-bytes");
      if (recordMaxFiles === 0 || recordMaxBytes === 0) {
        throw new UsageError("--record-max-files and --record-max-bytes must be at least 1");
      }
      const prometheusPort = flags.prometheusPort ?? flags.prometheus_port;
      const builtin = flags.builtin ? parseBuiltinAgentNames(flags.builtin) : [];
      // grpc-js logs a failed bind itself ("E No address added ..."); the error below says it better.
      const grpc = await import("@grpc/grpc-js");
      if (process.env.GRPC_VERBOSITY === undefined) grpc.setLogVerbosity(grpc.logVerbosity.NONE);
      const opt = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
      const port = number("--port", flags.port, true)!;
      const workers = await workerCount(flags.workers);
      const options: ServeOptions = {
        requireAgents: true,
        port,
        host: flags.host,
        modules: flags.modules ?? [],
        ...opt("taskTypes", flags.taskTypes),
        prometheusPort: flags.prometheus
          ? (number("--prometheus-port", prometheusPort, true) ?? 9090)
          : false,
        ...opt("timeoutSeconds", secondsFlag("--timeout", flags.timeout)),
        ...(flags.tlsCert && flags.tlsKey
          ? { tls: { cert: flags.tlsCert, key: flags.tlsKey, ...opt("clientCa", flags.tlsClientCa) } }
          : {}),
        ...opt("maxMessageSize", size(flags.maxMessageSize)),
        ...opt("keepaliveTimeSeconds", secondsFlag("--keepalive-time", flags.keepaliveTime)),
        ...opt("keepaliveTimeoutSeconds", secondsFlag("--keepalive-timeout", flags.keepaliveTimeout)),
        ...opt("maxConnectionAgeSeconds", secondsFlag("--max-connection-age", flags.maxConnectionAge)),
        ...opt(
          "maxConnectionAgeGraceSeconds",
          secondsFlag("--max-connection-age-grace", flags.maxConnectionAgeGrace),
        ),
        maxConcurrent: number("--max-concurrent", flags.maxConcurrent, true)!,
        gracePeriodSeconds: secondsFlag("--grace-period", flags.gracePeriod)!,
        discover: flags.discover,
        ...(builtin.length > 0
          ? { register: (registry: AgentRegistry) => void registerBuiltinAgents(registry, builtin) }
          : {}),
        reflection: flags.reflection,
        banner: flags.banner ? process.stderr : false,
        logLevel: logLevel ?? "info",
        ...(flags.record
          ? {
              record: {
                dir: flags.record,
                ...opt("maxFiles", recordMaxFiles),
                ...opt("maxBytes", recordMaxBytes),
              },
            }
          : {}),
        version: packageVersion,
      };
      const portInUse = (err: unknown): never => {
        if (/EADDRINUSE/.test(String((err as Error).message))) {
          throw new CliError(
            `port ${port} on ${flags.host} is already in use: stop what listens there, or pick another --port (0 picks a free one)`,
          );
        }
        throw err;
      };
      if (workers !== 1) {
        // This process only supervises: the server and the agents load in each worker. The server
        // knows no built-in agent, so the workers import one module that registers the named ones.
        const { builtinModuleEnv } = await import("../../builtin/register-from-env.js");
        if (builtin.length > 0) process.env[builtinModuleEnv] = builtin.join(",");
        const { serveWorkers } = await import("../../server/workers.js");
        const running = await serveWorkers({
          ...options,
          workers,
          modules: [
            ...(options.modules ?? []),
            ...(builtin.length > 0
              ? [fileURLToPath(new URL("../../builtin/register-from-env.js", import.meta.url))]
              : []),
          ],
        }).catch(portInUse);
        await running.closed;
        return;
      }
      const { serve, StopReason } = await import("../../server/serve.js");
      // On a terminal the log is for a person; anywhere else it stays JSON lines for collectors.
      let logger: Logger | undefined;
      if (process.stdout.isTTY) {
        const { createServerLogger } = await import("../../server/logger.js");
        const { prettyLogStream } = await import("../render/pretty-log.js");
        logger = await createServerLogger({
          level: logLevel ?? "info",
          destination: prettyLogStream({ out: process.stdout, color: !process.env.NO_COLOR }),
        });
      }
      const running = await serve({ ...options, ...(logger ? { logger } : {}) }).catch(portInUse);
      if (process.env.GRPC_VERBOSITY === undefined) grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
      try {
        await running.closed;
      } finally {
        const reason = running.stopReason;
        if (reason === StopReason.SIGNAL || reason === StopReason.UNCAUGHT_EXCEPTION) {
          // The process was asked to end (or is in an unknown state): an agent's leftover timer or
          // socket must not keep a drained, health-NOT_SERVING server alive until Kubernetes kills it.
          requestExitBackstop(1000, () =>
            running.logger.warn(
              "still running a second after stopping (agent timers or sockets are open): exiting",
            ),
          );
        }
      }
    });
}

/** Registers `flyte-agent serve agent` and its alias `serve connector`. */
export function register(program: Command): void {
  registerServeCommands(
    program
      .command("serve")
      .description("serve agents over gRPC for FlytePropeller (serve agent | serve connector)"),
  );
}

/**
 * Registers `agent` and its alias `connector` under `serve`: the one definition of the serve command,
 * under `flyte-agent serve` and as `flyte-agent-serve` itself.
 */
export function registerServeCommands(serve: Command): void {
  addServeCommand(
    serve,
    "agent",
    "run the gRPC agent server: Flyte 1's AsyncAgentService, SyncAgentService, AgentMetadataService and Flyte 2's AsyncConnectorService, ConnectorMetadataService on one port, health, reflection, metrics",
  );
  addServeCommand(serve, "connector", "the same as `serve agent` (flytekit ≥ 1.16 calls agents connectors)");
}
