import type { TlsOptions } from "../client/agent-client.js";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import {
  endpointConfig as propellerEndpointConfig,
  type PluginFlavor,
  type PropellerAgentConfig,
  type RpcOperation,
} from "@flyte-agent/runtime/internal/propeller/config.js";
import { FlyteVersion, profileOf } from "@flyte-agent/runtime/internal/propeller/profile.js";
import { AgentRouter } from "./agent-router.js";
import { type ExecutorClock, RateLimiter, realClock } from "./clock.js";
import { CallSlots, type RpcObserver } from "./connection.js";

/** What {@link ExecutorSession.create} takes. */
export interface ExecutorSessionOptions {
  /** An agent server already running (`host:port`, `dns:///host:port`); or give `config`. */
  readonly endpoint?: string;
  /** Route as FlytePropeller would from its `agent-service` / `connector-service` config. */
  readonly config?: PropellerAgentConfig;
  /** Use TLS towards `endpoint`. @default false (plaintext, as FlytePropeller's default agent) */
  readonly tls?: boolean | TlsOptions;
  /** Per-RPC deadlines in ms for `endpoint` (with `config`, its timeouts apply). */
  readonly rpcTimeouts?: Partial<Record<RpcOperation, number>>;
  /** Deadline for operations without one in `rpcTimeouts`; 0 = none. @default agent-service's `defaultTimeout` (3 s) */
  readonly defaultRpcTimeoutMs?: number;
  /** The clock of the shared read rate limiter. @default the wall clock */
  readonly clock?: ExecutorClock;
  /**
   * At most this many CreateTask, DeleteTask, ExecuteTaskSync and ListAgents calls in flight over the
   * session; the others wait for a slot before their deadline starts. FlytePropeller makes these
   * calls from its workers (`propeller.workers`), so their number, not the number of tasks, bounds
   * them. @default no limit
   */
  readonly maxConcurrentCalls?: number;
  /**
   * At most this many GetTask calls in flight, a pool of its own: FlytePropeller polls from its
   * cache's workers (`webApi.caching.workers`, 10 by default), so polls never queue behind creates.
   * @default no limit
   */
  readonly maxConcurrentGets?: number;
  /** Sees every finished RPC (operation, duration, status), e.g. to measure GetTask latency. */
  readonly onRpc?: RpcObserver;
  /**
   * Which executor the session's runs follow: 1 FlytePropeller's agent plugin, 2 Flyte 2's connector
   * plugin (flyteidl2.connector; a `config` must then be a connector-service one). @default 1
   */
  readonly flyte?: FlyteVersion;
}

/** A config that sends everything to one endpoint, with FlytePropeller's defaults otherwise. */
export function endpointConfig(
  endpoint: string,
  options: Pick<ExecutorSessionOptions, "tls" | "rpcTimeouts" | "defaultRpcTimeoutMs"> & {
    /** `connector-service` for Flyte 2's executor (10 s deadlines). @default "agent-service" */
    readonly flavor?: PluginFlavor;
  } = {},
): PropellerAgentConfig {
  const timeouts: Record<string, number> = {};
  for (const [op, ms] of Object.entries(options.rpcTimeouts ?? {})) if (ms !== undefined) timeouts[op] = ms;
  return propellerEndpointConfig(endpoint, {
    insecure: !options.tls,
    timeouts,
    ...(options.defaultRpcTimeoutMs !== undefined ? { defaultTimeoutMs: options.defaultRpcTimeoutMs } : {}),
    ...(options.flavor ? { flavor: options.flavor } : {}),
  });
}

/**
 * What one FlytePropeller process shares between all the tasks it runs: one connection per agent
 * deployment (with one discovery loop), and one GetTask rate limiter. Pass it to many concurrent
 * `executeTask({ session })` calls; without a session every run opens its own connections, runs its
 * own discovery and has a rate limiter of its own.
 *
 * @example
 * ```ts
 * const session = await ExecutorSession.create({ endpoint: "127.0.0.1:8000" });
 * try {
 *   const results = await Promise.all(jobs.map((inputs) => executeTask({ task, inputs, session })));
 * } finally {
 *   session.close();
 * }
 * ```
 */
export class ExecutorSession {
  private closed = false;

  private constructor(
    /** Routes task categories to connections, refreshed by ListAgents every `pollInterval`. */
    readonly router: AgentRouter,
    /** The read rate limiter (`readRateLimiter` of the config) every GetTask of the session waits on. */
    readonly limiter: RateLimiter,
  ) {}

  /** Opens the connections and runs a first ListAgents discovery round. */
  static async create(options: ExecutorSessionOptions): Promise<ExecutorSession> {
    if (!options.config && !options.endpoint) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        "an executor session needs an endpoint or a config",
      );
    }
    const profile = profileOf(options.flyte ?? FlyteVersion.V1);
    if (
      profile.flyte === FlyteVersion.V2 &&
      options.config &&
      options.config.flavor !== "connector-service"
    ) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        "Flyte 2's executor reads the connector-service section; this config is an agent-service one",
      );
    }
    const config =
      options.config ??
      endpointConfig(options.endpoint!, {
        ...options,
        ...(profile.flyte === FlyteVersion.V2 ? { flavor: "connector-service" as const } : {}),
      });
    const tls = typeof options.tls === "object" ? options.tls : undefined;
    const pool = (name: "maxConcurrentCalls" | "maxConcurrentGets") => {
      const max = options[name];
      if (max === undefined) return undefined;
      if (!(Number.isInteger(max) && max >= 1)) {
        throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `${name} must be a positive integer, got ${max}`);
      }
      return new CallSlots(max);
    };
    const calls = pool("maxConcurrentCalls");
    const gets = pool("maxConcurrentGets");
    const slots: Partial<Record<RpcOperation, CallSlots>> = {};
    if (calls)
      for (const op of ["CreateTask", "DeleteTask", "ExecuteTaskSync", "ListAgents"] as const)
        slots[op] = calls;
    if (gets) slots.GetTask = gets;
    const router = await AgentRouter.create(
      config,
      tls,
      { slots, ...(options.onRpc ? { onRpc: options.onRpc } : {}) },
      profile,
    );
    const { qps, burst } = config.readRateLimiter;
    return new ExecutorSession(router, new RateLimiter(qps, burst, options.clock ?? realClock));
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the connections; runs still using the session fail their next call. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.router.close();
  }
}
