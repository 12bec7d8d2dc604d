import { Server, ServerCredentials, type ServerOptions } from "@grpc/grpc-js";
import { type Logger, silentLogger } from "../core/context.js";
import { AgentRegistry } from "../core/registry.js";
import { HealthService, HealthStatus, ServingStatus } from "./health.js";
import { addLazyReflection } from "./reflection.js";
import type { CallHooks } from "./call-pipeline.js";
import { createServiceHandlers } from "./services/index.js";
import type { RequestRecorder } from "./recorder.js";

/** Time answered-by-shutdown calls get to reach their clients before connections are destroyed. */
const statusFlushMs = 200;

/** Options of {@link AgentServer.start}. */
export interface AgentServerOptions {
  /** Agents to serve. @default the process-wide `AgentRegistry.default` */
  readonly registry?: AgentRegistry;
  /** @default "0.0.0.0" */
  readonly host?: string;
  /** 0 picks a free port. @default 8000 */
  readonly port?: number;
  /** @default insecure (plaintext), as FlytePropeller's default agent connection */
  readonly credentials?: ServerCredentials;
  readonly logger?: Logger;
  readonly hooks?: CallHooks;
  /** Writes every CreateTask and ExecuteTaskSync request served to files (see `RequestRecorder`). */
  readonly recorder?: RequestRecorder;
  /** Extra grpc-js channel options (message sizes, keepalive). */
  readonly grpcOptions?: ServerOptions;
  /**
   * Serve `grpc.health.v1.Health` for `""` and each agent service: SERVING once bound, NOT_SERVING
   * from the moment a shutdown starts. @default false
   */
  readonly health?: boolean;
  /**
   * Serve gRPC reflection. It answers from the start, but the protos are parsed (a few hundred
   * milliseconds, tens of megabytes) only when the first reflection call arrives. @default false
   */
  readonly reflection?: boolean;
}

/** A running gRPC agent server. */
export class AgentServer {
  #shutdown: Promise<void> | undefined;

  private constructor(
    readonly server: Server,
    /** The bound port (useful with port 0). */
    readonly port: number,
    readonly host: string,
    /** The health service's statuses, when `health` was asked for. */
    readonly health: HealthStatus | undefined,
    /** Resolves once reflection is served: at once, since it is registered before the server binds. */
    readonly reflectionReady: Promise<void>,
    private readonly calls: { inFlight(): number; idle(): Promise<void>; abortAll(): void },
  ) {}

  /** `host:port` to dial, with a wildcard host replaced by loopback. */
  get address(): string {
    const host = this.host === "0.0.0.0" || this.host === "::" ? "127.0.0.1" : this.host;
    return `${host.includes(":") ? `[${host}]` : host}:${this.port}`;
  }

  /** Agent calls being answered now (health checks and reflection excluded). */
  get inFlight(): number {
    return this.calls.inFlight();
  }

  /** True once {@link AgentServer.shutdown} has been called. */
  get draining(): boolean {
    return this.#shutdown !== undefined;
  }

  /** Binds and starts serving the agent services. */
  static async start(options: AgentServerOptions = {}): Promise<AgentServer> {
    const registry = options.registry ?? AgentRegistry.default;
    const logger = options.logger ?? silentLogger;
    const server = new Server(options.grpcOptions);
    const handlers = createServiceHandlers({
      registry,
      logger,
      ...(options.hooks ? { hooks: options.hooks } : {}),
      ...(options.recorder ? { recorder: options.recorder } : {}),
    });
    for (const { definition, implementation } of handlers.services) {
      server.addService(definition, implementation);
    }
    const health = options.health ? new HealthStatus() : undefined;
    if (health) server.addService(HealthService, health.handlers());
    if (options.reflection) addLazyReflection(server, logger);
    const host = options.host ?? "0.0.0.0";
    const target = `${host.includes(":") ? `[${host}]` : host}:${options.port ?? 8000}`;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, options.credentials ?? ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      );
    });
    // The agents were loaded before the server was built, so it can take traffic now.
    health?.setAll(ServingStatus.SERVING);
    const reflectionReady = Promise.resolve();
    return new AgentServer(server, port, host, health, reflectionReady, handlers);
  }

  /**
   * Drains: health turns NOT_SERVING, the listener closes, calls in flight run to completion, then
   * connections close. Calls still running after `graceMs` are answered UNAVAILABLE (their agents'
   * signals fire) and the connections are closed. Calling it again returns the same promise.
   */
  shutdown(graceMs = 10_000): Promise<void> {
    this.#shutdown ??= this.#drain(graceMs);
    return this.#shutdown;
  }

  async #drain(graceMs: number): Promise<void> {
    this.health?.setAll(ServingStatus.NOT_SERVING);
    // Health watches never end on their own and would hold the drain open: they have just been told
    // NOT_SERVING, which is all a watcher needs.
    this.health?.endWatches();
    await new Promise<void>((resolve) => {
      let flush: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        this.calls.abortAll();
        // The statuses just written need a moment to leave before the connections are destroyed;
        // tryShutdown usually finishes first, once those streams end.
        flush = setTimeout(() => {
          this.server.forceShutdown();
          resolve();
        }, statusFlushMs);
        flush.unref();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        clearTimeout(flush);
        resolve();
      });
    });
  }

  /** Closes every connection at once. */
  forceShutdown(): void {
    this.health?.setAll(ServingStatus.NOT_SERVING);
    this.server.forceShutdown();
  }
}
