import { formatCategory, type TaskCategory } from "../core/task-category.js";
import type { AgentDeployment, PropellerAgentConfig } from "./config.js";

/** One agent as ListAgents describes it (the fields Propeller reads). */
export interface ListedAgent {
  readonly name: string;
  readonly isSync: boolean;
  /** Deprecated; Propeller registers each at version 0, before the categories. */
  readonly supportedTaskTypes: readonly string[];
  readonly supportedTaskCategories: readonly TaskCategory[];
}

/** What one discovery round got from one deployment: its agents, or the error of its ListAgents. */
export interface DeploymentListing {
  readonly deployment: AgentDeployment;
  readonly agents: readonly ListedAgent[];
  readonly error?: string;
}

/** How a route was chosen. */
export type RouteSource = "discovery" | "agentForTaskTypes" | "supportedTaskTypes" | "default";

/** Where Propeller sends a (task type, version). */
export interface RegistryRoute {
  readonly deployment: AgentDeployment;
  readonly isSync: boolean;
  readonly via: RouteSource;
}

/** A finding from building the registry, e.g. a version that Propeller loses. */
export interface RegistryWarning {
  readonly rule: "one-version-per-task-type";
  readonly message: string;
}

/**
 * Propeller's agent registry: `task type name → {version → agent}`, where each listed category
 * replaces the whole version map of its name, so one version per name survives
 * (`flyteplugins/.../webapi/agent/client.go:95-170`).
 */
export interface AgentRegistryView {
  readonly routes: ReadonlyMap<string, { readonly version: number; readonly route: RegistryRoute }>;
  readonly warnings: readonly RegistryWarning[];
}

/**
 * Builds the registry as one discovery round of Propeller does: each deployment's listing in order
 * (the default deployment first, when it has an endpoint), deprecated task types at version 0 and
 * then categories, each replacing the name's version map; then `agentForTaskTypes` (version 0,
 * forced async), then `supportedTaskTypes` not yet routed (default deployment, async).
 */
export function buildRegistry(
  config: PropellerAgentConfig,
  listings: readonly DeploymentListing[],
): AgentRegistryView {
  const routes = new Map<string, { version: number; route: RegistryRoute }>();
  const seen = new Map<string, Set<number>>();
  for (const listing of listings) {
    for (const agent of listing.agents) {
      const put = (name: string, version: number) => {
        routes.set(name, {
          version,
          route: { deployment: listing.deployment, isSync: agent.isSync, via: "discovery" },
        });
        const versions = seen.get(name) ?? new Set<number>();
        versions.add(version);
        seen.set(name, versions);
      };
      for (const t of agent.supportedTaskTypes) put(t, 0);
      for (const c of agent.supportedTaskCategories) put(c.name, c.version);
    }
  }
  const warnings: RegistryWarning[] = [];
  for (const [name, versions] of seen) {
    if (versions.size < 2) continue;
    const kept = routes.get(name)!.version;
    const lost = [...versions].filter((v) => v !== kept).sort((a, b) => a - b);
    warnings.push({
      rule: "one-version-per-task-type",
      message: `${name} is listed in versions ${[...versions].sort((a, b) => a - b).join(", ")}; FlytePropeller's registry keeps one version per task type (the last listed, here v${kept}), so tasks of ${lost.map((v) => formatCategory({ name, version: v })).join(", ")} go to the default agent as async tasks`,
    });
  }
  for (const [taskType, id] of Object.entries(config.agentForTaskTypes)) {
    const deployment = config.agents[id];
    if (!deployment) continue;
    routes.set(taskType, { version: 0, route: { deployment, isSync: false, via: "agentForTaskTypes" } });
  }
  if (config.defaultAgent) {
    for (const t of config.supportedTaskTypes) {
      if (!routes.has(t))
        routes.set(t, {
          version: 0,
          route: { deployment: config.defaultAgent, isSync: false, via: "supportedTaskTypes" },
        });
    }
  }
  return { routes, warnings };
}

/** The outcome of looking a task category up. */
export type RouteLookup =
  | { readonly kind: "route"; readonly route: RegistryRoute }
  /**
   * The type's name is no registry key (and no `default-for-task-types` entry names the plugin):
   * Propeller hands the task to its default plugin (a pod), never to an agent
   * (`flytepropeller/pkg/controller/nodes/task/handler.go:384-425`).
   */
  | { readonly kind: "not-agent-plugin"; readonly message: string }
  /** The name reaches the plugin but nothing routes it and there is no default deployment. */
  | { readonly kind: "no-deployment"; readonly message: string };

/**
 * `getFinalAgent` (`agent/plugin.go:401-409`): the exact (name, version) entry, else the default
 * deployment as async. `pluginTaskTypes` are the types `default-for-task-types` sends to the plugin
 * whatever the registry says.
 */
export function lookupRoute(
  registry: AgentRegistryView,
  config: PropellerAgentConfig,
  category: TaskCategory,
  pluginTaskTypes: readonly string[] = [],
): RouteLookup {
  const entry = registry.routes.get(category.name);
  if (!entry && !pluginTaskTypes.includes(category.name)) {
    const known = [...registry.routes.keys()].sort().join(", ") || "none";
    return {
      kind: "not-agent-plugin",
      message: `FlytePropeller would not send task type ${category.name} to the ${config.flavor} plugin at all: no deployment lists it in ListAgents, it is not in agentForTaskTypes or supportedTaskTypes (registered task types: ${known}), so the default container plugin would run it as a pod`,
    };
  }
  if (entry && entry.version === category.version) return { kind: "route", route: entry.route };
  if (!config.defaultAgent) {
    return {
      kind: "no-deployment",
      message: `no agent deployment serves ${formatCategory(category)} and the config has no default deployment`,
    };
  }
  return { kind: "route", route: { deployment: config.defaultAgent, isSync: false, via: "default" } };
}
