import { formatCategory, type TaskCategory } from "../core/task-category.js";
import type { AgentDeployment, PropellerAgentConfig } from "./config.js";
import { noConnectorFound } from "./messages.js";

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
export type RouteSource =
  "discovery" | "agentForTaskTypes" | "connectorForTaskTypes" | "supportedTaskTypes" | "default";

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
      const put = (name: string, version: number, counted: boolean) => {
        routes.set(name, {
          version,
          route: { deployment: listing.deployment, isSync: agent.isSync, via: "discovery" },
        });
        if (!counted) return;
        const versions = seen.get(name) ?? new Set<number>();
        versions.add(version);
        seen.set(name, versions);
      };
      // Servers (flytekit's, ours) also list each category's name as a deprecated task type; the
      // agent's own category overwrites it at once, so only a name without one counts as v0.
      const own = new Set(agent.supportedTaskCategories.map((c) => c.name));
      for (const t of agent.supportedTaskTypes) put(t, 0, !own.has(t));
      for (const c of agent.supportedTaskCategories) put(c.name, c.version, true);
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

/** Where a Flyte 2 task runs: its template's project and domain, which the registry keys on. */
export interface RouteScope {
  readonly project: string;
  readonly domain: string;
}

/**
 * Flyte 2's connector registry: a flat map keyed by (project, domain, name, version), so several
 * versions of a name coexist (main `connector/plugin.go:63-70`).
 */
export interface ConnectorRegistryView {
  readonly routes: ReadonlyMap<string, RegistryRoute>;
}

const connectorKey = (scope: RouteScope, category: TaskCategory) =>
  `${scope.project}\u0000${scope.domain}\u0000${category.name}\u0000${category.version}`;

/**
 * Builds Flyte 2's registry as one discovery round does (main `connector/client.go:218-266`): every
 * category each deployment lists, under the deployment's project and domain; then
 * `connectorForTaskTypes` (version 0, the named deployment's scope); then `supportedTaskTypes` not
 * yet present (the default connector's scope); then `connectorApps`' listings, which overwrite.
 * `listings` hold the default connector and `connectors` first, then the apps (`apps: true`).
 */
export function buildConnectorRegistry(
  config: PropellerAgentConfig,
  listings: readonly (DeploymentListing & { readonly app?: boolean })[],
): ConnectorRegistryView {
  const routes = new Map<string, RegistryRoute>();
  const list = (l: DeploymentListing) => {
    const scope = { project: l.deployment.project ?? "", domain: l.deployment.domain ?? "" };
    for (const connector of l.agents)
      for (const c of connector.supportedTaskCategories)
        routes.set(connectorKey(scope, c), { deployment: l.deployment, isSync: false, via: "discovery" });
  };
  for (const l of listings) if (!l.app) list(l);
  for (const [taskType, id] of Object.entries(config.agentForTaskTypes)) {
    const deployment = config.agents[id];
    if (!deployment) continue;
    const scope = { project: deployment.project ?? "", domain: deployment.domain ?? "" };
    routes.set(connectorKey(scope, { name: taskType, version: 0 }), {
      deployment,
      isSync: false,
      via: "connectorForTaskTypes",
    });
  }
  if (config.defaultAgent) {
    const d = config.defaultAgent;
    const scope = { project: d.project ?? "", domain: d.domain ?? "" };
    for (const t of config.supportedTaskTypes) {
      const key = connectorKey(scope, { name: t, version: 0 });
      // Go's zero Deployment has no endpoint either; such a route fails at dial time there.
      if (!routes.has(key)) routes.set(key, { deployment: d, isSync: false, via: "supportedTaskTypes" });
    }
  }
  for (const l of listings) if (l.app) list(l);
  return { routes };
}

/** The task type names in a Flyte 2 registry: what the connector plugin accepts (main `connector/plugin.go:43-61`). */
export function connectorTaskTypes(registry: ConnectorRegistryView): string[] {
  return [...new Set([...registry.routes.keys()].map((k) => k.split("\u0000")[2]!))].sort();
}

/**
 * `getFinalConnector` (main `connector/plugin.go:400-437`): the (project, domain) entry of the exact
 * (name, version), else the domain's, else the global one, else the default connector when it has an
 * endpoint; with none, an error. `pluginTaskTypes` as in {@link lookupRoute}.
 */
export function lookupConnectorRoute(
  registry: ConnectorRegistryView,
  config: PropellerAgentConfig,
  category: TaskCategory,
  scope: RouteScope,
  pluginTaskTypes: readonly string[] = [],
): RouteLookup {
  const names = connectorTaskTypes(registry);
  if (!names.includes(category.name) && !pluginTaskTypes.includes(category.name)) {
    return {
      kind: "not-agent-plugin",
      message: `Flyte 2's executor would not send task type ${category.name} to the connector plugin: no connector lists it in ListConnectors, it is not in connectorForTaskTypes or supportedTaskTypes (registered task types: ${names.join(", ") || "none"})`,
    };
  }
  for (const s of [scope, { project: "", domain: scope.domain }, { project: "", domain: "" }]) {
    const route = registry.routes.get(connectorKey(s, category));
    if (route) return { kind: "route", route };
  }
  if (config.defaultAgent?.endpoint) {
    return { kind: "route", route: { deployment: config.defaultAgent, isSync: false, via: "default" } };
  }
  return { kind: "no-deployment", message: noConnectorFound(category.name, category.version) };
}
