import { Server, ServerCredentials, type ServerOptions } from "@grpc/grpc-js";
import {
  AgentMetadataServiceService,
  AsyncAgentServiceService,
  SyncAgentServiceService,
} from "../gen/flyteidl/service/agent.js";
import { type Logger, silentLogger } from "../core/context.js";
import { AgentRegistry } from "../core/registry.js";
import { type CallHooks, createServiceHandlers } from "./services.js";

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
  /** Extra grpc-js channel options (message sizes, keepalive). */
  readonly grpcOptions?: ServerOptions;
}

/** A running gRPC agent server. */
export class AgentServer {
  private constructor(
    readonly server: Server,
    /** The bound port (useful with port 0). */
    readonly port: number,
    readonly host: string,
  ) {}

  /** `host:port` to dial, with a wildcard host replaced by loopback. */
  get address(): string {
    const host = this.host === "0.0.0.0" || this.host === "::" ? "127.0.0.1" : this.host;
    return `${host.includes(":") ? `[${host}]` : host}:${this.port}`;
  }

  /** Binds and starts serving the agent services. */
  static async start(options: AgentServerOptions = {}): Promise<AgentServer> {
    const registry = options.registry ?? AgentRegistry.default;
    const server = new Server(options.grpcOptions);
    const handlers = createServiceHandlers({
      registry,
      logger: options.logger ?? silentLogger,
      ...(options.hooks ? { hooks: options.hooks } : {}),
    });
    server.addService(AsyncAgentServiceService, handlers.asyncAgentService);
    server.addService(SyncAgentServiceService, handlers.syncAgentService);
    server.addService(AgentMetadataServiceService, handlers.metadataService);
    const host = options.host ?? "0.0.0.0";
    const target = `${host.includes(":") ? `[${host}]` : host}:${options.port ?? 8000}`;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, options.credentials ?? ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      );
    });
    return new AgentServer(server, port, host);
  }

  /** Stops accepting calls and waits for in-flight ones, forcing them closed after `graceMs`. */
  async shutdown(graceMs = 10_000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Closes every connection at once. */
  forceShutdown(): void {
    this.server.forceShutdown();
  }
}
