import cluster, { type Worker } from "node:cluster";
import { createServer as createNetServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { Logger } from "../core/context.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import type { AgentInfo } from "../core/registry.js";
import { formatBanner } from "./banner.js";
import { startMetricsHttpEndpoint } from "./metrics-endpoint.js";
import { createServerLogger } from "./logger.js";
import type { ServeOptions } from "./serve.js";

/** When a crashed worker is started again (see {@link WorkerRestarts}). */
export interface RestartBackoffOptions {
  /** Delay before restarting a worker that crashed once. @default 250 */
  readonly initialMs?: number;
  /** The delay doubles per crash in a row, up to this. @default 30000 */
  readonly maxMs?: number;
  /** A worker that served this long before it crashed starts the count again. @default 30000 */
  readonly resetAfterMs?: number;
}

/** Options of {@link serveWorkers}: those of `serve` (but agents come from modules) plus the count. */
export interface ServeWorkersOptions extends Omit<ServeOptions, "registry"> {
  /** Worker processes, each loading the agent modules and serving on the one shared port. */
  readonly workers: number;
  readonly restartBackoff?: RestartBackoffOptions;
}

/** A multi-process server started by {@link serveWorkers}. */
export interface RunningWorkers {
  /** The gRPC port every worker serves on. */
  readonly port: number;
  /** `host:port` to dial. */
  readonly address: string;
  /** The port of the aggregated `/metrics`, when metrics are on. */
  readonly metricsPort: number | undefined;
  /** What ListAgents advertises (as the first worker reported it). */
  readonly agents: readonly AgentInfo[];
  readonly workers: number;
  /** Resolves once every worker has stopped. */
  readonly closed: Promise<void>;
  /** Drains every worker (as on SIGTERM) and resolves once all have exited. */
  stop(): Promise<void>;
}

/**
 * Counts crashes per worker slot and says how long to wait before starting the slot again:
 * `initialMs` after the first crash, doubling per crash in a row up to `maxMs`, so a worker that
 * crashes at start (a bad deploy) does not spin a core. A worker that had served `resetAfterMs`
 * before crashing starts the count again.
 */
export class WorkerRestarts {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #resetAfterMs: number;
  readonly #crashes = new Map<number, number>();

  constructor(options: RestartBackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 250;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#resetAfterMs = options.resetAfterMs ?? 30_000;
  }

  /** Records that the worker of `slot` exited after `uptimeMs`; returns the delay before a restart. */
  crashed(slot: number, uptimeMs: number): number {
    const inARow = uptimeMs >= this.#resetAfterMs ? 1 : (this.#crashes.get(slot) ?? 0) + 1;
    this.#crashes.set(slot, inARow);
    return Math.min(this.#maxMs, this.#initialMs * 2 ** (inARow - 1));
  }
}

// The messages between the primary and its workers, over the cluster IPC channel. The `type` prefix
// keeps them apart from prom-client's own cluster messages.
const prefix = "flyte-agent:";
/** Worker → primary. */
type FromWorker =
  | {
      readonly type: "flyte-agent:ready";
      readonly port: number;
      readonly settings: WorkerSettings;
      readonly agents: readonly AgentInfo[];
      readonly modules: readonly string[];
    }
  | { readonly type: "flyte-agent:failed"; readonly code: string; readonly message: string }
  | { readonly type: "flyte-agent:metrics"; readonly id: number; readonly metrics: unknown };
/** The options a worker resolved that the primary needs (it resolves none itself). */
interface WorkerSettings {
  readonly host: string;
  readonly tls: "plaintext" | "TLS" | "mutual TLS";
  readonly prometheusPort: number | false;
  readonly gracePeriodSeconds: number;
}
/** Primary → worker. */
type ToWorker =
  | { readonly type: "flyte-agent:serving" }
  | { readonly type: "flyte-agent:drain" }
  | { readonly type: "flyte-agent:force" }
  | { readonly type: "flyte-agent:metrics"; readonly id: number };

/** The environment variable that hands a worker its configuration (JSON of {@link WorkerConfig}). */
const configEnv = "FLYTE_AGENT_WORKER_CONFIG";

interface WorkerConfig {
  /** 1..N, stable across restarts, so log lines and dashboards name a worker the same way. */
  readonly slot: number;
  readonly options: ServeOptions;
}

const isMessage = (m: unknown): m is { type: string } =>
  typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n", 1)[0] ?? "";
}

/** Time a worker answers a metrics request in before a scrape goes on without it. */
const metricsTimeoutMs = 5000;
/** Time beyond the grace period after which a worker that has not exited is killed. */
const exitMarginMs = 5000;

/** Binds `host:0` for a moment to learn a free port, so that every worker binds the same one. */
function pickPort(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * Runs the agent server as `workers` processes on one port (`node:cluster`: the primary accepts
 * connections and hands them round-robin to the workers). The primary loads no agent: each worker
 * imports the modules and serves every agent service, health and reflection. The primary prints the
 * banner, serves one `/metrics` with every worker's series summed (prom-client's aggregation), and
 * answers for the workers as a whole: health is NOT_SERVING in every worker until all of them listen;
 * SIGTERM/SIGINT (or `stop()`) drains every worker within the grace period; a worker that dies is
 * started again after a back-off ({@link WorkerRestarts}).
 *
 * Agents must come from modules (`modules`, or `flyteAgent.modules` in package.json): an agent
 * registered by the calling script would exist in the primary only.
 * @throws FlyteAgentError (INVALID_CONFIG) for bad options or when a worker fails to start (its
 * error, e.g. a module that does not load).
 */
export async function serveWorkers(options: ServeWorkersOptions): Promise<RunningWorkers> {
  const {
    workers: count,
    restartBackoff,
    logger: givenLogger,
    banner: bannerOption,
    timeoutSeconds,
    handleSignals: handleSignalsOption,
    handleProcessErrors: _processErrors,
    ...served
  } = options;
  const invalid = (message: string) => new FlyteAgentError(ErrorCode.INVALID_CONFIG, message);
  if (!Number.isInteger(count) || count < 1)
    throw invalid(`workers must be an integer of at least 1, got ${count}`);
  if ((options as ServeOptions).registry) {
    throw invalid("a registry object cannot be shared by worker processes: pass the agents as modules");
  }
  if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds >= 0)) {
    throw invalid(`timeout must be a non-negative number, got ${String(timeoutSeconds)}`);
  }
  if (!cluster.isPrimary) throw invalid("serveWorkers() was called inside a worker process");
  const handleSignals = handleSignalsOption ?? true;
  const banner = bannerOption ?? process.stderr;
  const logger: Logger =
    givenLogger ?? (await createServerLogger(served.logLevel ? { level: served.logLevel } : {}));
  // The primary imports neither the server nor the agents: the workers resolve and check the options
  // (a bad one fails the first worker, whose error is reported once) and report what they serve.
  // Port 0: the primary chooses the port, so that every worker, including one started again after all
  // others died, binds the same one.
  const workerOptions: ServeOptions = {
    ...served,
    ...(served.port === 0 ? { port: await pickPort(served.host) } : {}),
  };
  cluster.setupPrimary({ exec: fileURLToPath(new URL("./worker-entry.js", import.meta.url)), args: [] });

  const restarts = new WorkerRestarts(restartBackoff);
  const slots = new Map<number, { worker: Worker; readyAt: number | undefined }>();
  const restartTimers = new Set<NodeJS.Timeout>();
  let started = false;
  let stopping: Promise<void> | undefined;
  let firstReady: Extract<FromWorker, { type: "flyte-agent:ready" }> | undefined;
  let startFailed: ((err: Error) => void) | undefined;
  let allReady: (() => void) | undefined;
  let allExited: (() => void) | undefined;
  let metricsRequest = 0;
  /** Metrics requests waiting for a worker's answer, by request id. */
  const metricsReplies = new Map<number, { worker: Worker; answer(metrics: unknown): void }>();

  const send = (worker: Worker, message: ToWorker): void => {
    if (worker.isConnected()) worker.send(message);
  };
  const broadcast = (message: ToWorker): void => {
    for (const { worker } of slots.values()) send(worker, message);
  };

  const fork = (slot: number): void => {
    const config: WorkerConfig = { slot, options: workerOptions };
    const worker = cluster.fork({ [configEnv]: JSON.stringify(config) });
    const entry = { worker, readyAt: undefined as number | undefined };
    slots.set(slot, entry);
    logger.info({ worker: slot, worker_pid: worker.process.pid }, "worker started");
    worker.on("message", (m: unknown) => {
      if (!isMessage(m) || !m.type.startsWith(prefix)) return;
      const message = m as FromWorker;
      if (message.type === "flyte-agent:ready") {
        entry.readyAt = Date.now();
        firstReady ??= message;
        if (message.port !== firstReady.port) {
          logger.error(
            { worker: slot, port: message.port, expected: firstReady.port },
            "worker bound another port",
          );
        }
        // A worker that was still starting when the drain began did not hear it: tell it now.
        if (stopping) send(worker, { type: "flyte-agent:drain" });
        else if (started) send(worker, { type: "flyte-agent:serving" });
        if ([...slots.values()].every((s) => s.readyAt !== undefined)) allReady?.();
      } else if (message.type === "flyte-agent:failed") {
        startFailed?.(
          new FlyteAgentError(
            message.code in ErrorCode ? (message.code as ErrorCode) : ErrorCode.AGENT_FAILURE,
            message.message,
          ),
        );
      } else if (message.type === "flyte-agent:metrics") {
        metricsReplies.get(message.id)?.answer(message.metrics);
      }
    });
    worker.on("exit", (code: number | null, signal: NodeJS.Signals | null) => {
      if (slots.get(slot)?.worker === worker) slots.delete(slot);
      // A scrape does not wait for a worker that is gone.
      for (const pending of metricsReplies.values()) if (pending.worker === worker) pending.answer(undefined);
      if (stopping) {
        logger.info({ worker: slot, worker_pid: worker.process.pid, code, signal }, "worker stopped");
        if (slots.size === 0) allExited?.();
        return;
      }
      if (!started) {
        startFailed?.(
          new FlyteAgentError(
            ErrorCode.AGENT_FAILURE,
            `worker ${slot} exited (${signal ?? `code ${String(code)}`}) before it was serving`,
          ),
        );
        return;
      }
      const uptimeMs = entry.readyAt === undefined ? 0 : Date.now() - entry.readyAt;
      const delay = restarts.crashed(slot, uptimeMs);
      logger.error(
        { worker: slot, worker_pid: worker.process.pid, code, signal, restart_in_ms: delay },
        "worker exited: starting another",
      );
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!stopping) fork(slot);
      }, delay);
      restartTimers.add(timer);
    });
  };

  // The collector of the aggregated /metrics: every ready worker's series, summed.
  const collectMetrics = async (): Promise<{ text: string; contentType: string }> => {
    const { AggregatorRegistry } = await import("prom-client");
    type WorkerMetrics = Parameters<typeof AggregatorRegistry.aggregate>[0][number];
    const ready = [...slots.values()].filter((s) => s.readyAt !== undefined).map((s) => s.worker);
    const answers = await Promise.all(
      ready.map(
        (worker) =>
          new Promise<unknown>((resolve) => {
            const id = ++metricsRequest;
            const timer = setTimeout(() => {
              metricsReplies.delete(id);
              resolve(undefined);
            }, metricsTimeoutMs);
            metricsReplies.set(id, {
              worker,
              answer: (metrics) => {
                clearTimeout(timer);
                metricsReplies.delete(id);
                resolve(metrics);
              },
            });
            send(worker, { type: "flyte-agent:metrics", id });
          }),
      ),
    );
    const registry = AggregatorRegistry.aggregate(
      answers.filter((a): a is WorkerMetrics => Array.isArray(a)),
    );
    return { text: await registry.metrics(), contentType: registry.contentType };
  };

  // Before any worker has resolved it (a stop during start-up), the grace period given, or none: a
  // worker still starting has no call to finish.
  const graceSeconds = (): number =>
    firstReady?.settings.gracePeriodSeconds ?? options.gracePeriodSeconds ?? 0;
  let endpoint: { port: number; close(): Promise<void> } | undefined;
  let timeout: NodeJS.Timeout | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  /** Drains every worker (one still starting is told once it is ready) and waits for all to exit. */
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearTimeout(timeout);
      for (const t of restartTimers) clearTimeout(t);
      restartTimers.clear();
      // Stopped while starting: serveWorkers returns, and `closed` resolves once the workers are gone.
      allReady?.();
      const exited = new Promise<void>((resolve) => {
        allExited = resolve;
        if (slots.size === 0) resolve();
      });
      broadcast({ type: "flyte-agent:drain" });
      // A worker that ignores its own grace period (an agent stuck in a synchronous loop) is killed.
      const kill = setTimeout(
        () => {
          logger.warn("workers still running after the grace period: killing them");
          for (const { worker } of slots.values()) worker.process.kill("SIGKILL");
        },
        graceSeconds() * 1000 + exitMarginMs,
      );
      await exited;
      clearTimeout(kill);
      await endpoint?.close();
      removeSignalHandlers();
      logger.info("agent server stopped");
      resolveClosed();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: closing every connection now");
      broadcast({ type: "flyte-agent:force" });
      return;
    }
    logger.info({ signal, grace_period_s: graceSeconds(), workers: slots.size }, "draining");
    void stop();
  };
  const removeSignalHandlers = (): void => {
    if (!handleSignals) return;
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
  // Handled from the start: a signal while the workers start must drain them, not orphan them.
  if (handleSignals) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  /** Stops every worker at once and rethrows: the server failed to start. */
  const abortStart = async (err: unknown): Promise<never> => {
    started = true; // no restarts from here on
    stopping = Promise.resolve();
    removeSignalHandlers();
    const exited = [...slots.values()].map(
      ({ worker }) =>
        new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once("exit", () => resolve()))),
    );
    for (const { worker } of slots.values()) worker.process.kill("SIGKILL");
    await Promise.all(exited);
    throw err;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      allReady = resolve;
      startFailed = reject;
      for (let slot = 1; slot <= count; slot++) fork(slot);
    });
  } catch (err) {
    return abortStart(err);
  } finally {
    allReady = undefined;
    startFailed = undefined;
  }
  started = true;
  // Every worker reported ready (or a stop began while they started, and the first of them may not).
  const ready = firstReady;
  const settings = ready?.settings;
  const port = ready?.port ?? workerOptions.port ?? 0;
  const host = settings?.host ?? workerOptions.host ?? "0.0.0.0";
  if (!stopping) {
    broadcast({ type: "flyte-agent:serving" });
    if (settings && settings.prometheusPort !== false) {
      try {
        endpoint = await startMetricsHttpEndpoint(collectMetrics, host, settings.prometheusPort);
      } catch (err) {
        return abortStart(
          new FlyteAgentError(
            ErrorCode.INVALID_CONFIG,
            `cannot serve metrics on port ${settings.prometheusPort}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (choose another --prometheus-port)`,
          ),
        );
      }
    }
  }

  const agents = ready?.agents ?? [];
  if (banner && settings && !stopping) {
    banner.write(
      formatBanner({
        agents,
        address: `${host}:${port}`,
        tls: settings.tls,
        metricsPort: endpoint?.port,
        workers: count,
        ...(options.version ? { version: options.version } : {}),
      }),
    );
  }
  if (!stopping) {
    logger.info(
      {
        port,
        host,
        tls: settings?.tls,
        metrics_port: endpoint?.port,
        workers: count,
        agents: agents.map((a) => ({ name: a.name, categories: a.categories, is_sync: a.isSync })),
        modules: ready?.modules ?? [],
      },
      "agent server listening",
    );
  }
  if (timeoutSeconds !== undefined && !stopping) {
    timeout = setTimeout(() => {
      logger.info({ timeout_s: timeoutSeconds }, "timeout reached: stopping");
      void stop();
    }, timeoutSeconds * 1000);
  }
  return {
    port,
    address: `${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${port}`,
    metricsPort: endpoint?.port,
    agents,
    workers: count,
    closed,
    stop,
  };
}

/**
 * The worker side of {@link serveWorkers} (run by `worker-entry.js` in each forked process): serves
 * with the configuration the primary handed over, holds health NOT_SERVING until the primary says
 * every worker listens, answers the primary's metrics requests, and drains when told. Resolves to the
 * process's exit code once the server has stopped.
 */
export async function runWorker(): Promise<number> {
  const raw = process.env[configEnv];
  if (!cluster.isWorker || !raw || !process.send) {
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, "not a worker process of serveWorkers()");
  }
  const config = JSON.parse(raw) as WorkerConfig;
  const toPrimary = (message: FromWorker): void => {
    process.send?.(message);
  };
  const { serve, resolveServeOptions } = await import("./serve.js");
  const { ServingStatus } = await import("./health.js");
  const base = await createServerLogger(config.options.logLevel ? { level: config.options.logLevel } : {});
  const logger = base.child({ worker: config.slot });
  let running;
  let settings: WorkerSettings;
  try {
    const o = resolveServeOptions(config.options);
    settings = {
      host: o.host,
      tls: !o.tls ? "plaintext" : o.tls.clientCa ? "mutual TLS" : "TLS",
      prometheusPort: o.prometheusPort,
      gracePeriodSeconds: o.gracePeriodSeconds,
    };
    running = await serve({ ...config.options, logger, banner: false, clusterWorker: true });
  } catch (err) {
    const code = err instanceof FlyteAgentError ? err.code : ErrorCode.AGENT_FAILURE;
    toPrimary({ type: "flyte-agent:failed", code, message: messageOf(err) });
    return 1;
  }
  const server = running.server;
  const onMessage = (m: unknown): void => {
    if (!isMessage(m) || !m.type.startsWith(prefix)) return;
    const message = m as ToWorker;
    if (message.type === "flyte-agent:serving") {
      if (!server.draining) server.health?.setAll(ServingStatus.SERVING);
    } else if (message.type === "flyte-agent:drain") {
      logger.info({ in_flight: server.inFlight }, "draining");
      void running.stop();
    } else if (message.type === "flyte-agent:force") {
      server.forceShutdown();
    } else if (message.type === "flyte-agent:metrics") {
      const registry = running.metrics?.registry;
      void (registry ? registry.getMetricsAsJSON() : Promise.resolve([])).then(
        (metrics) => toPrimary({ type: "flyte-agent:metrics", id: message.id, metrics }),
        () => toPrimary({ type: "flyte-agent:metrics", id: message.id, metrics: [] }),
      );
    }
  };
  process.on("message", onMessage);
  toPrimary({
    type: "flyte-agent:ready",
    port: running.port,
    settings,
    agents: running.agents,
    modules: running.modules.map((m) => m.specifier),
  });
  try {
    await running.closed;
    return 0;
  } catch {
    return 1;
  } finally {
    process.off("message", onMessage);
  }
}
