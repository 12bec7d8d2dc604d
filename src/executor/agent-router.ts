import type { TlsOptions } from "../client/agent-client.js";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import type { TaskCategory } from "@flyte-agent/runtime/internal/core/task-category.js";
import type {
  AgentDeployment,
  PropellerAgentConfig,
} from "@flyte-agent/runtime/internal/propeller/config.js";
import { FLYTE1_PROFILE, type PropellerProfile } from "@flyte-agent/runtime/internal/propeller/profile.js";
import {
  type AgentRegistryView,
  buildConnectorRegistry,
  buildRegistry,
  type ConnectorRegistryView,
  type DeploymentListing,
  lookupConnectorRoute,
  lookupRoute,
  type RegistryWarning,
  type RouteScope,
  type RouteSource,
} from "@flyte-agent/runtime/internal/propeller/registry.js";
import { AgentConnection, type AgentConnectionOptions } from "./connection.js";
import { ConnectorConnection } from "./connector-connection.js";

/** The calls of one deployment, over either protocol. */
export type TaskConnection = AgentConnection | ConnectorConnection;

/** Where one task category goes. */
export interface AgentRoute {
  readonly connection: TaskConnection;
  readonly deployment: AgentDeployment;
  readonly isSync: boolean;
  /** How the route was chosen, for people reading the events. */
  readonly via: RouteSource;
}

/** What a discovery round found on one deployment. */
export interface DiscoveryReport {
  readonly deployment: string;
  readonly categories: readonly { name: string; version: number; isSync: boolean }[];
  readonly error?: string;
}

/**
 * Routes task categories to agent deployments as FlytePropeller does, with its registry
 * (`propeller/registry.ts`): ListAgents on every deployment, one version per task-type name,
 * `agentForTaskTypes` and `supportedTaskTypes`; a type that is no registry key never reaches the
 * agent plugin. With the Flyte 2 profile it speaks `flyteidl2.connector` and routes as Flyte 2's
 * connector plugin does: (project, domain) → domain → global → defaultConnector.
 */
export class AgentRouter {
  private registry: AgentRegistryView = { routes: new Map(), warnings: [] };
  private connectorRegistry: ConnectorRegistryView = { routes: new Map() };
  private discoveredAt: number | undefined;

  private constructor(
    readonly config: PropellerAgentConfig,
    private readonly connections: ReadonlyMap<string, TaskConnection>,
    private readonly clients: readonly { close(): void }[],
    readonly profile: PropellerProfile,
    /** Flyte 2's connectorApps, discovered after the others. */
    private readonly apps: ReadonlySet<string>,
  ) {}

  /**
   * Opens a channel per endpoint and runs a first discovery round. `connectionOptions` (an RPC
   * observer, shared call slots) apply to every connection.
   */
  static async create(
    config: PropellerAgentConfig,
    tls?: TlsOptions,
    connectionOptions?: AgentConnectionOptions,
    profile: PropellerProfile = FLYTE1_PROFILE,
  ): Promise<AgentRouter> {
    const v2 = profile.sendsConnection;
    const byEndpoint = new Map<
      string,
      ReturnType<typeof AgentConnection.dial | typeof ConnectorConnection.dial>
    >();
    const connections = new Map<string, TaskConnection>();
    const apps = Object.values(config.apps ?? {});
    const all = [
      ...(config.defaultAgent ? [config.defaultAgent] : []),
      ...Object.values(config.agents),
      ...(v2 ? apps : []),
    ];
    for (const d of all) {
      if (!d.endpoint) continue;
      let client = byEndpoint.get(d.endpoint);
      if (!client) {
        client = v2 ? ConnectorConnection.dial(d, tls) : AgentConnection.dial(d, tls);
        byEndpoint.set(d.endpoint, client);
      }
      connections.set(
        d.id,
        v2
          ? new ConnectorConnection(
              d,
              client as ReturnType<typeof ConnectorConnection.dial>,
              connectionOptions,
            )
          : new AgentConnection(d, client as ReturnType<typeof AgentConnection.dial>, connectionOptions),
      );
    }
    const router = new AgentRouter(
      config,
      connections,
      [...byEndpoint.values()],
      profile,
      new Set(v2 ? apps.map((d) => d.id) : []),
    );
    await router.discover();
    return router;
  }

  /** Findings of the last discovery round (e.g. versions the registry loses). */
  get warnings(): readonly RegistryWarning[] {
    return this.registry.warnings;
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

  /** One discovery round; a deployment whose ListAgents fails adds no routes this round. */
  async discover(): Promise<DiscoveryReport[]> {
    const listings: DeploymentListing[] = await Promise.all(
      [...this.connections.values()].map(async (connection): Promise<DeploymentListing> => {
        try {
          const { value } = await connection.listAgents();
          return { deployment: connection.deployment, agents: value.agents };
        } catch (err) {
          return { deployment: connection.deployment, agents: [], error: (err as Error).message };
        }
      }),
    );
    if (this.profile.projectDomainRouting) {
      this.connectorRegistry = buildConnectorRegistry(
        this.config,
        listings.map((l) => ({ ...l, app: this.apps.has(l.deployment.id) })),
      );
    } else this.registry = buildRegistry(this.config, listings);
    return listings.map((l) => {
      // Servers usually fill both the deprecated task types (version 0) and the categories.
      const categories = new Map<string, { name: string; version: number; isSync: boolean }>();
      for (const a of l.agents) {
        for (const name of a.supportedTaskTypes)
          categories.set(`${name}\u0000${0}`, { name, version: 0, isSync: a.isSync });
        for (const c of a.supportedTaskCategories)
          categories.set(`${c.name}\u0000${c.version}`, {
            name: c.name,
            version: c.version,
            isSync: a.isSync,
          });
      }
      return {
        deployment: l.deployment.id,
        categories: [...categories.values()],
        ...(l.error !== undefined ? { error: l.error } : {}),
      };
    });
  }

  /**
   * The route of a category: the registry's exact (name, version) entry, else the default
   * deployment (async). `withinPlugin`: the task already reached the plugin (Get, Delete).
   * @throws FlyteAgentError (`AGENT_NOT_FOUND`) when Propeller would not send the task to the agent
   * plugin at all, or there is no deployment for it.
   */
  route(
    category: TaskCategory,
    options: { readonly withinPlugin?: boolean; readonly scope?: RouteScope } = {},
  ): AgentRoute {
    // Once a task is in the plugin (Get, Delete), a name missing from the registry falls back to
    // the default deployment (`agent/plugin.go:401-409`).
    const plugin = options.withinPlugin ? [category.name] : this.config.pluginTaskTypes;
    const found = this.profile.projectDomainRouting
      ? lookupConnectorRoute(
          this.connectorRegistry,
          this.config,
          category,
          options.scope ?? { project: "", domain: "" },
          plugin,
        )
      : lookupRoute(this.registry, this.config, category, plugin);
    if (found.kind !== "route") throw new FlyteAgentError(ErrorCode.AGENT_NOT_FOUND, found.message);
    const connection = this.connections.get(found.route.deployment.id);
    if (!connection) {
      throw new FlyteAgentError(
        ErrorCode.AGENT_NOT_FOUND,
        `the ${found.route.deployment.id} deployment has no endpoint, so nothing can call it`,
      );
    }
    return {
      connection,
      deployment: found.route.deployment,
      isSync: found.route.isSync,
      via: found.route.via,
    };
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
