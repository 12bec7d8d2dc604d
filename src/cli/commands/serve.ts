import { type Command, Option } from "commander";
import type { AgentRegistry } from "../../core/registry.js";
import { UsageError } from "../errors.js";
import { requestExitBackstop } from "../exit-backstop.js";
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
  record?: string;
  recordMaxFiles?: string;
  recordMaxBytes?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

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

function addServeCommand(parent: Command, name: string, description: string): void {
  parent
    .command(name)
    .description(description)
    .option("-p, --port <port>", "gRPC port (0 picks a free one)", "8000")
    .option("--host <host>", "address to listen on", "0.0.0.0")
    .option(
      "-m, --modules <module>",
      "file (.js/.ts) or package to import to register agents; repeatable",
      collect,
    )
    .option(
      "--task-types <categories>",
      'serve only these task categories ("bigquery", "bigquery_v1"); comma-separated or repeated',
      collect,
    )
    .option("--prometheus-port <port>", "port of the Prometheus /metrics endpoint (default: 9090)")
    .addOption(new Option("--prometheus_port <port>").hideHelp())
    .option("--no-prometheus", "do not serve metrics")
    .option("--timeout <seconds>", "stop after this many seconds (for tests)")
    .option("--tls-cert <file>", "PEM certificate chain: serve TLS")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option("--tls-client-ca <file>", "PEM CA bundle: require client certificates it signed (mutual TLS)")
    .option(
      "--max-message-size <size>",
      "largest message received or sent (e.g. 16MiB; default: 4MiB received)",
    )
    .option("--keepalive-time <seconds>", "ping idle connections this often (default: never)")
    .option("--keepalive-timeout <seconds>", "drop a connection whose ping is not answered in time")
    .option(
      "--max-connection-age <seconds>",
      "ask clients to reconnect after this long, so new replicas get traffic (default: never)",
    )
    .option("--max-connection-age-grace <seconds>", "time calls get to finish after that (default: 30)")
    .option(
      "--max-concurrent <n>",
      "calls in flight beyond which new ones get RESOURCE_EXHAUSTED (0: no limit)",
      "1000",
    )
    .option("--grace-period <seconds>", "on SIGTERM/SIGINT, time in-flight calls get to finish", "20")
    .option(
      "--builtin <names>",
      "also serve built-in agents: sensor, webhook, or all; comma-separated or repeated (none by default)",
      collect,
    )
    .option("--no-discover", "do not import modules declared in package.json files (flyteAgent.modules)")
    .option("--no-reflection", "do not serve gRPC reflection")
    .option("--no-banner", "do not print the table of agents at start")
    .option(
      "--record <dir>",
      "write every CreateTask/ExecuteTaskSync request served to <dir> (env values and secret-looking keys redacted), for `flyte-agent run --replay <file>`",
    )
    .option("--record-max-files <n>", "records kept in --record <dir>, oldest deleted first (default: 1000)")
    .option(
      "--record-max-bytes <size>",
      "total size of the records kept, oldest deleted first (e.g. 64MiB; default: 256MiB)",
    )
    .option("--log-level <level>", "trace | debug | info | warn | error (default: info, or $LOG_LEVEL)")
    .addOption(
      new Option(
        "--worker <n>",
        "accepted for pyflyte compatibility; one event loop serves every call",
      ).hideHelp(),
    )
    .action(async (flags: ServeFlags) => {
      const { serve, StopReason } = await import("../../server/serve.js");
      const { parseBuiltinAgentNames, registerBuiltinAgents } =
        await import("../../builtin/builtin-agents.js");
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
        throw new UsageError("--tls-cert and --tls-key go together: pass both to serve TLS");
      }
      if (flags.tlsClientCa && !flags.tlsCert) {
        throw new UsageError("--tls-client-ca needs --tls-cert and --tls-key");
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
      const opt = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
      const running = await serve({
        port: number("--port", flags.port, true)!,
        host: flags.host,
        modules: flags.modules ?? [],
        ...opt("taskTypes", flags.taskTypes),
        prometheusPort: flags.prometheus
          ? (number("--prometheus-port", prometheusPort, true) ?? 9090)
          : false,
        ...opt("timeoutSeconds", number("--timeout", flags.timeout)),
        ...(flags.tlsCert && flags.tlsKey
          ? { tls: { cert: flags.tlsCert, key: flags.tlsKey, ...opt("clientCa", flags.tlsClientCa) } }
          : {}),
        ...opt("maxMessageSize", size(flags.maxMessageSize)),
        ...opt("keepaliveTimeSeconds", number("--keepalive-time", flags.keepaliveTime)),
        ...opt("keepaliveTimeoutSeconds", number("--keepalive-timeout", flags.keepaliveTimeout)),
        ...opt("maxConnectionAgeSeconds", number("--max-connection-age", flags.maxConnectionAge)),
        ...opt(
          "maxConnectionAgeGraceSeconds",
          number("--max-connection-age-grace", flags.maxConnectionAgeGrace),
        ),
        maxConcurrent: number("--max-concurrent", flags.maxConcurrent, true)!,
        gracePeriodSeconds: number("--grace-period", flags.gracePeriod)!,
        discover: flags.discover,
        ...(builtin.length > 0
          ? { register: (registry: AgentRegistry) => void registerBuiltinAgents(registry, builtin) }
          : {}),
        reflection: flags.reflection,
        banner: flags.banner ? process.stderr : false,
        ...opt("logLevel", flags.logLevel),
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
      });
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
  const serve = program
    .command("serve")
    .description("serve agents over gRPC for FlytePropeller (serve agent | serve connector)");
  addServeCommand(
    serve,
    "agent",
    "run the gRPC agent server: AsyncAgentService, SyncAgentService, AgentMetadataService, health, reflection, metrics",
  );
  addServeCommand(serve, "connector", "the same as `serve agent` (flytekit ≥ 1.16 calls agents connectors)");
}
