import { readFileSync } from "node:fs";
import { ServerCredentials, type ServerOptions } from "@grpc/grpc-js";
import type { Logger } from "../core/context.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { AgentRegistry, type AgentInfo, parseCategory } from "../core/registry.js";
import { formatBanner } from "./banner.js";
import { createServerLogger } from "./logger.js";
import {
  createCallHooks,
  createServerMetrics,
  type MetricsEndpoint,
  type ServerMetrics,
  startMetricsEndpoint,
} from "./metrics.js";
import { type LoadedModule, loadAgentModules } from "./module-loader.js";
import { ServingStatus } from "./health.js";
import { AgentServer } from "./server.js";
import { RequestRecorder } from "./recorder.js";

/** TLS files of {@link ServeOptions.tls} (paths to PEM files). */
export interface ServeTlsOptions {
  readonly cert: string;
  readonly key: string;
  /** A CA bundle: clients must present a certificate it signed (mutual TLS). */
  readonly clientCa?: string;
}

/** Options of {@link serve}: what `flyte-agent serve agent` takes as flags. */
export interface ServeOptions {
  /** @default 8000 */
  readonly port?: number;
  /** @default "0.0.0.0" */
  readonly host?: string;
  /** Files or packages to import to register agents. */
  readonly modules?: readonly string[];
  /** Import the modules declared in package.json files (`flyteAgent.modules`). @default true */
  readonly discover?: boolean;
  /** Where modules and packages are looked up. @default process.cwd() */
  readonly cwd?: string;
  /**
   * Registers more agents once the modules are imported and before the task-type allowlist applies
   * (the CLI adds the `--builtin` agents here). None by default, so a deployment advertises only what
   * it was given.
   */
  readonly register?: (registry: AgentRegistry) => void;
  /** Agents to serve. @default the process-wide registry, after the modules are imported */
  readonly registry?: AgentRegistry;
  /**
   * Serve only these task categories (`"bigquery"` = version 0, `"bigquery_v1"`), and advertise only
   * them in ListAgents. An allowed category no module registered is an error.
   */
  readonly taskTypes?: readonly string[];
  /** Prometheus `/metrics` port; `false` turns metrics off. @default 9090 */
  readonly prometheusPort?: number | false;
  /** Stop (draining) after this many seconds; for tests, as pyflyte's `--timeout`. */
  readonly timeoutSeconds?: number;
  readonly tls?: ServeTlsOptions;
  /** Largest message received and sent, in bytes. @default 4 MiB received (gRPC's default), no send limit */
  readonly maxMessageSize?: number;
  /** Ping idle connections this often, in seconds (0 = never). @default 0 */
  readonly keepaliveTimeSeconds?: number;
  /** Close a connection whose ping is not answered within this many seconds. @default 20 */
  readonly keepaliveTimeoutSeconds?: number;
  /**
   * Ask clients to reconnect after a connection has lived this many seconds (0 = never), so replicas
   * added behind a Kubernetes Service receive traffic. @default 0
   */
  readonly maxConnectionAgeSeconds?: number;
  /** Time calls get to finish after a max-age GOAWAY, in seconds. @default 30 */
  readonly maxConnectionAgeGraceSeconds?: number;
  /** Agent calls in flight beyond which new ones get RESOURCE_EXHAUSTED (0 = no limit). @default 1000 */
  readonly maxConcurrent?: number;
  /** On SIGTERM/SIGINT, time in-flight calls get to finish, in seconds. @default 20 */
  readonly gracePeriodSeconds?: number;
  /** Serve gRPC reflection. @default true */
  readonly reflection?: boolean;
  /** Drain and stop on SIGTERM and SIGINT. @default true */
  readonly handleSignals?: boolean;
  /**
   * Own the process's last-resort error events, as a server process should: an `unhandledRejection`
   * (a promise an agent dropped) is logged at error level, counted in
   * `flyte_agent_unhandled_errors_total{kind}`, and serving goes on; an `uncaughtException` is logged
   * and counted too, then the server drains (as on SIGTERM) and {@link RunningAgentServer.closed}
   * rejects, because the process may be in a state nobody planned for. The server never exits the
   * process: after a stop whose {@link RunningAgentServer.stopReason} is a signal or an uncaught
   * exception, the program that owns the process should end it (the CLI does, a second later, if an
   * agent left timers or sockets open). @default the value of `handleSignals`
   */
  readonly handleProcessErrors?: boolean;
  /** Where the start-up banner goes; `false` for none. @default process.stderr */
  readonly banner?: NodeJS.WritableStream | false;
  /** Refuse to start when no agent is registered (the CLI's choice: a server with nothing to serve is a mistake). @default false */
  readonly requireAgents?: boolean;
  /** The structured logger. @default pino JSON lines on standard output at `logLevel` */
  readonly logger?: Logger;
  /** @default "info" */
  readonly logLevel?: string;
  /** Shown in the banner. */
  readonly version?: string;
  /**
   * @internal Set in the worker processes of `serveWorkers`: health stays NOT_SERVING until the
   * primary says every worker listens, metrics are collected but served by the primary, and the
   * "listening" line is the worker's, not the server's.
   */
  readonly clusterWorker?: boolean;
  /**
   * Write every CreateTask and ExecuteTaskSync request served to files in this directory, redacted
   * and bounded, for `flyte-agent run --replay` (see `RequestRecorder`). A directory that cannot be
   * written is an error at start.
   */
  readonly record?: ServeRecordOptions;
}

/** {@link ServeOptions.record}. */
export interface ServeRecordOptions {
  readonly dir: string;
  /** @default 1000 */
  readonly maxFiles?: number;
  /** @default 256 MiB */
  readonly maxBytes?: number;
}

/** {@link ServeOptions} with every default applied. */
export interface ResolvedServeOptions {
  readonly port: number;
  readonly host: string;
  readonly modules: readonly string[];
  readonly discover: boolean;
  readonly cwd: string;
  readonly taskTypes: readonly string[] | undefined;
  readonly prometheusPort: number | false;
  readonly timeoutSeconds: number | undefined;
  readonly tls: ServeTlsOptions | undefined;
  readonly grpcOptions: ServerOptions;
  readonly maxConcurrent: number;
  readonly gracePeriodSeconds: number;
  readonly reflection: boolean;
  readonly handleSignals: boolean;
  readonly handleProcessErrors: boolean;
  readonly banner: NodeJS.WritableStream | false;
  readonly logLevel: string;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, message);
}

const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
const nonNegative = (n: number | undefined) => n === undefined || (Number.isFinite(n) && n >= 0);

/**
 * Applies defaults and checks values once.
 * @throws FlyteAgentError (INVALID_CONFIG) with one sentence naming the bad option.
 */
export function resolveServeOptions(options: ServeOptions = {}): ResolvedServeOptions {
  const port = options.port ?? 8000;
  check(isPort(port), `port must be an integer between 0 and 65535, got ${port}`);
  const prometheusPort = options.prometheusPort ?? 9090;
  check(
    prometheusPort === false || isPort(prometheusPort),
    `prometheus port must be an integer between 0 and 65535, got ${String(prometheusPort)}`,
  );
  for (const [name, value] of Object.entries({
    timeout: options.timeoutSeconds,
    "max message size": options.maxMessageSize,
    "keepalive time": options.keepaliveTimeSeconds,
    "keepalive timeout": options.keepaliveTimeoutSeconds,
    "max connection age": options.maxConnectionAgeSeconds,
    "max connection age grace": options.maxConnectionAgeGraceSeconds,
    "max concurrent": options.maxConcurrent,
    "grace period": options.gracePeriodSeconds,
  })) {
    check(nonNegative(value), `${name} must be a non-negative number, got ${String(value)}`);
  }
  check(!options.tls || (!!options.tls.cert && !!options.tls.key), "TLS needs both a certificate and a key");
  const ms = (s: number) => Math.round(s * 1000);
  const grpcOptions: Record<string, number> = {};
  if (options.maxMessageSize) {
    grpcOptions["grpc.max_receive_message_length"] = options.maxMessageSize;
    grpcOptions["grpc.max_send_message_length"] = options.maxMessageSize;
  }
  if (options.keepaliveTimeSeconds) {
    grpcOptions["grpc.keepalive_time_ms"] = ms(options.keepaliveTimeSeconds);
    grpcOptions["grpc.keepalive_timeout_ms"] = ms(options.keepaliveTimeoutSeconds ?? 20);
  }
  if (options.maxConnectionAgeSeconds) {
    grpcOptions["grpc.max_connection_age_ms"] = ms(options.maxConnectionAgeSeconds);
    grpcOptions["grpc.max_connection_age_grace_ms"] = ms(options.maxConnectionAgeGraceSeconds ?? 30);
  }
  const taskTypes = options.taskTypes
    ?.flatMap((t) => t.split(","))
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    port,
    host: options.host ?? "0.0.0.0",
    modules: options.modules ?? [],
    discover: options.discover ?? true,
    cwd: options.cwd ?? process.cwd(),
    taskTypes: taskTypes && taskTypes.length > 0 ? taskTypes : undefined,
    prometheusPort,
    timeoutSeconds: options.timeoutSeconds,
    tls: options.tls,
    grpcOptions,
    maxConcurrent: options.maxConcurrent ?? 1000,
    gracePeriodSeconds: options.gracePeriodSeconds ?? 20,
    reflection: options.reflection ?? true,
    handleSignals: options.handleSignals ?? true,
    handleProcessErrors: options.handleProcessErrors ?? options.handleSignals ?? true,
    banner: options.banner ?? process.stderr,
    logLevel: options.logLevel ?? process.env.LOG_LEVEL ?? "info",
  };
}

/** Why a server started by {@link serve} stopped. */
export const StopReason = {
  /** SIGTERM or SIGINT: the process is asked to end. */
  SIGNAL: "signal",
  /** An exception no code caught: the process should end, its state is unknown. */
  UNCAUGHT_EXCEPTION: "uncaughtException",
  /** {@link ServeOptions.timeoutSeconds} passed. */
  TIMEOUT: "timeout",
  /** {@link RunningAgentServer.stop} was called. */
  STOP: "stop",
} as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

/** A server started by {@link serve}. */
export interface RunningAgentServer {
  readonly server: AgentServer;
  /** The bound gRPC port. */
  readonly port: number;
  /** `host:port` to dial. */
  readonly address: string;
  /** The bound metrics port, when metrics are on. */
  readonly metricsPort: number | undefined;
  /** What ListAgents advertises. */
  readonly agents: readonly AgentInfo[];
  readonly modules: readonly LoadedModule[];
  /** The server's metrics, when metrics are on. */
  readonly metrics: ServerMetrics | undefined;
  /**
   * Resolves once the server has stopped (signal, timeout or {@link RunningAgentServer.stop}); rejects
   * with a FlyteAgentError (AGENT_FAILURE) when it stopped because of an uncaught exception.
   */
  readonly closed: Promise<void>;
  /**
   * Why the server is stopping or stopped; undefined while it serves. After `signal` or
   * `uncaughtException` the process is expected to end: whoever owns it should exit once
   * {@link RunningAgentServer.closed} settles, even if agent timers or sockets keep it alive.
   */
  readonly stopReason: StopReason | undefined;
  /** The server's structured logger. */
  readonly logger: Logger;
  /** Drains (health NOT_SERVING, in-flight calls finish within the grace period) and stops. */
  stop(): Promise<void>;
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n", 1)[0] ?? "";
}

function allowOnly(registry: AgentRegistry, taskTypes: readonly string[]): AgentRegistry {
  try {
    return registry.filter(taskTypes);
  } catch (err) {
    const available = registry
      .listAgents()
      .flatMap((a) => a.categories.map((c) => `${c.name}_v${c.version}`))
      .sort();
    const missing = taskTypes.filter((t) => {
      const c = parseCategory(t);
      return !registry.has(c.name, c.version);
    });
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `the task-type allowlist names ${missing.join(", ")}, which no loaded agent serves (loaded: [${available.join(", ")}])`,
      { cause: err },
    );
  }
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

function credentialsFor(tls: ServeTlsOptions | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const cert = readPem(tls.cert, "TLS certificate");
  const key = readPem(tls.key, "TLS key");
  const ca = tls.clientCa ? readPem(tls.clientCa, "client CA bundle") : null;
  try {
    return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
  } catch (err) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `invalid TLS files: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * Runs the production agent server, as `flyte-agent serve agent` does: imports agent modules,
 * applies the task-type allowlist, serves the agent services with health, reflection, metrics, TLS,
 * keepalive and a concurrency limit, prints the banner, and drains on SIGTERM/SIGINT.
 *
 * @example
 * ```ts
 * const running = await serve({ port: 8000, modules: ["./dist/agent.js"], taskTypes: ["bigquery"] });
 * await running.closed;
 * ```
 */
export async function serve(options: ServeOptions = {}): Promise<RunningAgentServer> {
  const o = resolveServeOptions(options);
  const logger: Logger = options.logger ?? (await createServerLogger({ level: o.logLevel }));
  const modules = await loadAgentModules({
    modules: o.modules,
    cwd: o.cwd,
    discover: o.discover,
    ...(options.registry ? { registry: options.registry } : {}),
  });
  const all = options.registry ?? AgentRegistry.default;
  options.register?.(all);
  const registry = o.taskTypes ? allowOnly(all, o.taskTypes) : all;
  check(
    !options.requireAgents || registry.listAgents().length > 0,
    "no agents to serve: pass --modules <file> (a module that registers agents), declare flyteAgent.modules in package.json, or add --builtin sensor",
  );
  const metrics = o.prometheusPort === false ? undefined : await createServerMetrics();
  const hooks = createCallHooks({ maxConcurrent: o.maxConcurrent, ...(metrics ? { metrics } : {}) });
  const credentials = credentialsFor(o.tls);
  const recorder = options.record ? await RequestRecorder.create({ ...options.record, logger }) : undefined;
  let endpoint: MetricsEndpoint | undefined;
  try {
    endpoint =
      metrics && o.prometheusPort !== false && !options.clusterWorker
        ? await startMetricsEndpoint(metrics, o.host, o.prometheusPort)
        : undefined;
  } catch (err) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `cannot serve metrics on port ${String(o.prometheusPort)}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (choose another --prometheus-port)`,
    );
  }
  let server: AgentServer;
  try {
    server = await AgentServer.start({
      registry,
      host: o.host,
      port: o.port,
      credentials,
      logger,
      hooks,
      ...(recorder ? { recorder } : {}),
      grpcOptions: o.grpcOptions,
      health: true,
      reflection: o.reflection,
    });
  } catch (err) {
    await endpoint?.close();
    throw err;
  }
  // Nothing has run between the bind and here (only promise continuations), so no health check can
  // have seen SERVING yet.
  if (options.clusterWorker) server.health?.setAll(ServingStatus.NOT_SERVING);
  metrics?.countInFlight(() => server.inFlight);
  let resolveClosed!: () => void;
  let rejectClosed!: (err: Error) => void;
  const closed = new Promise<void>((resolve, reject) => {
    resolveClosed = resolve;
    rejectClosed = reject;
  });
  // Callers may never await `closed`; its rejection must not become an unhandled rejection itself.
  closed.catch(() => {});
  let stopping: Promise<void> | undefined;
  let stopReason: StopReason | undefined;
  let timeout: NodeJS.Timeout | undefined;
  let fatal: unknown;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: closing every connection now");
      server.forceShutdown();
      return;
    }
    logger.info({ signal, grace_period_s: o.gracePeriodSeconds, in_flight: server.inFlight }, "draining");
    void stop(StopReason.SIGNAL);
  };
  const onUnhandledRejection = (reason: unknown): void => {
    metrics?.unhandled("unhandledRejection");
    logger.error(
      { err: reason, kind: "unhandledRejection" },
      `unhandled promise rejection (an agent dropped a promise; still serving): ${messageOf(reason)}`,
    );
  };
  const onUncaughtException = (err: Error): void => {
    metrics?.unhandled("uncaughtException");
    if (stopping) {
      logger.error(
        { err, kind: "uncaughtException" },
        `uncaught exception while stopping: ${messageOf(err)}`,
      );
      fatal ??= err;
      return;
    }
    fatal = err;
    logger.error(
      { err, kind: "uncaughtException", grace_period_s: o.gracePeriodSeconds, in_flight: server.inFlight },
      `uncaught exception: draining and exiting: ${messageOf(err)}`,
    );
    void stop(StopReason.UNCAUGHT_EXCEPTION);
  };
  const stop = (reason: StopReason = StopReason.STOP): Promise<void> => {
    stopReason ??= reason;
    stopping ??= (async () => {
      clearTimeout(timeout);
      await server.shutdown(o.gracePeriodSeconds * 1000);
      // Requests already served are still written: a record of the last calls before a crash loop matters most.
      await recorder?.flushed();
      await endpoint?.close();
      if (o.handleSignals) {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
      if (o.handleProcessErrors) {
        process.off("unhandledRejection", onUnhandledRejection);
        process.off("uncaughtException", onUncaughtException);
      }
      if (fatal === undefined) {
        logger.info("agent server stopped");
        resolveClosed();
      } else {
        logger.error("agent server stopped after an uncaught exception");
        rejectClosed(
          new FlyteAgentError(
            ErrorCode.AGENT_FAILURE,
            `the agent server stopped after an uncaught exception: ${messageOf(fatal)}`,
            { cause: fatal },
          ),
        );
      }
    })();
    return stopping;
  };
  if (o.handleSignals) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  if (o.handleProcessErrors) {
    process.on("unhandledRejection", onUnhandledRejection);
    process.on("uncaughtException", onUncaughtException);
  }
  if (o.timeoutSeconds !== undefined) {
    timeout = setTimeout(() => {
      logger.info({ timeout_s: o.timeoutSeconds }, "timeout reached: stopping");
      void stop(StopReason.TIMEOUT);
    }, o.timeoutSeconds * 1000);
  }
  // Only now, with the signal handlers installed, is the server announced: a SIGTERM sent by whoever
  // read the line (a test, an orchestrator) drains it instead of killing the process.
  const agents = registry.listAgents();
  const tlsMode = !o.tls ? "plaintext" : o.tls.clientCa ? "mutual TLS" : "TLS";
  if (o.banner) {
    o.banner.write(
      formatBanner({
        agents,
        address: `${o.host}:${server.port}`,
        tls: tlsMode,
        metricsPort: endpoint?.port,
        ...(options.version ? { version: options.version } : {}),
      }),
    );
  }
  logger.info(
    {
      port: server.port,
      host: o.host,
      tls: tlsMode,
      metrics_port: endpoint?.port,
      agents: agents.map((a) => ({ name: a.name, categories: a.categories, is_sync: a.isSync })),
      modules: modules.map((m) => m.specifier),
      ...(recorder ? { record_dir: recorder.dir } : {}),
    },
    options.clusterWorker ? "worker listening" : "agent server listening",
  );

  return {
    server,
    port: server.port,
    address: server.address,
    metricsPort: endpoint?.port,
    agents,
    modules,
    metrics,
    closed,
    get stopReason() {
      return stopReason;
    },
    logger,
    stop: () => stop(),
  };
}
