import type { Agent } from "@flyte-agent/runtime/internal/core/agent.js";
import type { Logger } from "@flyte-agent/runtime/internal/core/context.js";
import { silentLogger } from "@flyte-agent/runtime/internal/core/context.js";
import { AgentRegistry } from "@flyte-agent/runtime/internal/core/registry.js";

/** What {@link startTestServer} takes. */
export interface TestServerOptions {
  /** The agents to serve, in a registry of their own (the process-wide one is left alone). */
  readonly agents?: readonly Agent[];
  /** Serve this registry instead of building one from `agents`. */
  readonly registry?: AgentRegistry;
  /** @default a logger that drops everything */
  readonly logger?: Logger;
}

/** A real agent server on a free loopback port. */
export interface TestServer {
  /** `127.0.0.1:<port>`: pass it as the executor's endpoint or to a gRPC client. */
  readonly address: string;
  readonly port: number;
  readonly registry: AgentRegistry;
  /** Stops the server (in-flight calls are cancelled). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the real gRPC agent server on `127.0.0.1`, port 0, serving the given agents, for tests that
 * go over real sockets. Close it in `afterAll` (or `await using server = await startTestServer(...)`).
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const registry = options.registry ?? new AgentRegistry();
  for (const agent of options.agents ?? []) registry.register(agent);
  // Loaded here so the isolation helpers never pull in grpc-js.
  const { AgentServer } = await import("@flyte-agent/runtime/internal/server/server.js");
  const server = await AgentServer.start({
    registry,
    host: "127.0.0.1",
    port: 0,
    logger: options.logger ?? silentLogger,
  });
  const close = async () => {
    await server.shutdown(0);
  };
  return {
    address: server.address,
    port: server.port,
    registry,
    close,
    [Symbol.asyncDispose]: close,
  };
}
