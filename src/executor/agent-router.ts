import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import type { TaskCategory } from "../core/task-category.js";
import type { AgentDeployment, PropellerAgentConfig } from "./propeller-config.js";
import { AgentConnection, type AgentConnectionOptions, type TlsOptions } from "./transport.js";

/** Where one task category goes. */
export interface AgentRoute {
  readonly connection: AgentConnection;
  readonly deployment: AgentDeployment;
  readonly isSync: boolean;
  /** How the route was chosen, for people reading the events. */
  readonly via: "discovery" | "agentForTaskTypes" | "supportedTaskTypes" | "default";
}

/** What a discovery round found on one deployment. */
export interface DiscoveryReport {
  readonly deployment: string;
  readonly categories: readonly { name: string; version: number; isSync: boolean }[];
  readonly error?: string;
}

const key = (name: string, version: number) => `${name}\u0000${version}`;

/**
 * Routes task categories to agent deployments exactly as FlytePropeller does: ListAgents discovery on
 * every deployment, then `agentForTaskTypes` (version 0, forced async), then `supportedTaskTypes`, and
 * the default deployment (async) for anything without an exact (type, version) match.
 */
export class AgentRouter {
  private routes = new Map<string, AgentRoute>();
  private discoveredAt: number | undefined;

  private constructor(
    readonly config: PropellerAgentConfig,
    private readonly connections: ReadonlyMap<string, AgentConnection>,
  ) {}

  /**
   * Opens a connection per deployment and runs a first discovery round. `connectionOptions` (an RPC
   * observer, shared call slots) apply to every connection.
   */
  static async create(
    config: PropellerAgentConfig,
    tls?: TlsOptions,
    connectionOptions?: AgentConnectionOptions,
  ): Promise<AgentRouter> {
    const connections = new Map<string, AgentConnection>();
    const all = [...Object.values(config.agents), ...(config.defaultAgent ? [config.defaultAgent] : [])];
    for (const d of all) connections.set(d.id, new AgentConnection(d, tls, connectionOptions));
    const router = new AgentRouter(config, connections);
    await router.discover();
    return router;
  }

  /**
   * Runs a discovery round when `pollInterval` has passed since the last one, as FlytePropeller's
   * periodic ListAgents does; called before each poll so that time comes from the executor's clock.
   * @returns the reports of the round, or undefined when none was due.
   */
  async refreshIfDue(now: number): Promise<DiscoveryReport[] | undefined> {
    if (this.discoveredAt === undefined) {
      this.discoveredAt = now;
      return undefined;
    }
    if (now - this.discoveredAt < this.config.pollIntervalMs) return undefined;
    this.discoveredAt = now;
    return this.discover();
  }

  /** One discovery round; a deployment that fails to answer adds no routes this round. */
  async discover(): Promise<DiscoveryReport[]> {
    const routes = new Map<string, AgentRoute>();
    const reports = await Promise.all(
      [...this.connections.values()].map(async (connection): Promise<DiscoveryReport> => {
        try {
          const { agents } = await connection.listAgents();
          // Servers usually fill both the deprecated task types (version 0) and the categories.
          const categories = new Map<string, { name: string; version: number; isSync: boolean }>();
          for (const agent of agents) {
            for (const t of agent.supportedTaskTypes)
              categories.set(key(t, 0), { name: t, version: 0, isSync: agent.isSync });
            for (const c of agent.supportedTaskCategories)
              categories.set(key(c.name, c.version), {
                name: c.name,
                version: c.version,
                isSync: agent.isSync,
              });
          }
          return { deployment: connection.deployment.id, categories: [...categories.values()] };
        } catch (err) {
          return { deployment: connection.deployment.id, categories: [], error: (err as Error).message };
        }
      }),
    );
    for (const report of reports) {
      const connection = this.connections.get(report.deployment)!;
      for (const c of report.categories) {
        routes.set(key(c.name, c.version), {
          connection,
          deployment: connection.deployment,
          isSync: c.isSync,
          via: "discovery",
        });
      }
    }
    for (const [taskType, id] of Object.entries(this.config.agentForTaskTypes)) {
      const connection = this.connections.get(id);
      if (!connection) continue;
      routes.set(key(taskType, 0), {
        connection,
        deployment: connection.deployment,
        isSync: false,
        via: "agentForTaskTypes",
      });
    }
    const def = this.defaultConnection();
    if (def) {
      for (const t of this.config.supportedTaskTypes) {
        if (!routes.has(key(t, 0)))
          routes.set(key(t, 0), {
            connection: def,
            deployment: def.deployment,
            isSync: false,
            via: "supportedTaskTypes",
          });
      }
    }
    this.routes = routes;
    return reports;
  }

  private defaultConnection(): AgentConnection | undefined {
    return this.config.defaultAgent ? this.connections.get(this.config.defaultAgent.id) : undefined;
  }

  /** The route of a category; without an exact match, the default deployment (async). */
  route(category: TaskCategory): AgentRoute {
    const hit = this.routes.get(key(category.name, category.version));
    if (hit) return hit;
    const def = this.defaultConnection();
    if (!def) {
      throw new FlyteAgentError(
        ErrorCode.AGENT_NOT_FOUND,
        `no agent deployment serves task type ${category.name} (version ${category.version}) and the config has no default deployment`,
      );
    }
    return { connection: def, deployment: def.deployment, isSync: false, via: "default" };
  }

  close(): void {
    for (const c of this.connections.values()) c.close();
  }
}
