import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import {
  type PluginFlavor,
  type PropellerAgentConfig,
  defaultTimeoutOf,
  parsePropellerConfig,
} from "@flyte-agent/runtime/internal/propeller/config.js";
import { formatDuration } from "@flyte-agent/runtime/internal/types/duration.js";
import { unifiedDiff } from "./unified-diff.js";

/**
 * The `defaultTimeout` written for a new deployment entry: entries under `agents` get no defaults
 * from FlytePropeller (no deadline at all), so the entry gets the default deployment's deadline
 * (3 s for agent-service, 10 s for connector-service).
 */
export function defaultDeploymentTimeout(flavor: PluginFlavor): string {
  return formatDuration(defaultTimeoutOf(flavor), { syntax: "go" });
}

/** Options of {@link routeTaskTypes}. */
export interface RouteOptions {
  /** Deployment id under `agents` (or `connectors`). */
  readonly agentId: string;
  /** What FlytePropeller dials, e.g. `dns:///my-agent.flyte.svc.cluster.local:8000`. */
  readonly endpoint: string;
  /** Task types to route to this deployment through `agentForTaskTypes`. */
  readonly taskTypes: readonly string[];
  /** Plaintext gRPC (in-cluster). @default true */
  readonly insecure?: boolean;
  /** gRPC service config, e.g. round_robin for a headless Service. @default none */
  readonly defaultServiceConfig?: string;
  /**
   * Per-operation deadlines as Go durations, keyed by operation (`GetTask`, `ExecuteTaskSync`, ...).
   * Written as a list of one-key maps, the only form whose keys keep their case in FlytePropeller's
   * config loader. @default none (every call uses `defaultTimeout`)
   */
  readonly timeouts?: Readonly<Record<string, string>>;
  /** @default {@link defaultDeploymentTimeout} of the section's flavor */
  readonly defaultTimeout?: string;
  /**
   * Canary routing: each routed task type remembers its previous target in a YAML comment, so
   * {@link unrouteAgent} can restore it without any state kept elsewhere. @default false
   */
  readonly canary?: boolean;
  /** Name of the input in error messages. @default "propeller config" */
  readonly source?: string;
}

/** Options of {@link unrouteAgent}. */
export interface UnrouteOptions {
  /** The deployment id whose routing is removed. */
  readonly agentId: string;
  /** Also delete the deployment entry itself. @default true */
  readonly removeAgent?: boolean;
  /** @default "propeller config" */
  readonly source?: string;
}

/** A patched FlytePropeller config. */
export interface RoutingPatch {
  readonly before: string;
  readonly after: string;
  /** Unified diff of `before` → `after` ("" when nothing changed). */
  readonly diff: string;
  /** What changed, one sentence each (including the `enabled_plugins.yaml` edits). */
  readonly notes: readonly string[];
  /** The patched config as FlytePropeller resolves it (validated by `parsePropellerConfig`). */
  readonly config: PropellerAgentConfig;
  /** Set when the input was a whole ConfigMap (so it can be applied as is). */
  readonly configMap: { readonly name: string; readonly namespace: string | undefined } | undefined;
}

type Flavor = "agent-service" | "connector-service";

interface SectionEdit {
  (doc: Document, section: YAMLMap, flavor: Flavor): void;
}
interface PluginsEdit {
  (doc: Document, taskPlugins: YAMLMap, flavor: Flavor): void;
}

const canaryMark = /canary of .*?; previously (\S+)/;
const DEFAULT_TARGET = "(default)";

function keysOf(flavor: Flavor) {
  return flavor === "agent-service"
    ? { many: "agents", forTypes: "agentForTaskTypes" }
    : { many: "connectors", forTypes: "connectorForTaskTypes" };
}

function invalid(source: string, message: string): FlyteAgentError {
  return new FlyteAgentError(ErrorCode.INVALID_CONFIG, `${source}: ${message}`);
}

/**
 * Adds (or updates) a deployment entry and routes task types to it in a FlytePropeller config — a
 * whole ConfigMap, a `plugins:` document or the bare `agent-service` / `connector-service` section —
 * keeping every other key, comment and quoting style. In a ConfigMap that also holds
 * `enabled_plugins.yaml`, each task type is mapped to the agent plugin in `default-for-task-types`
 * (without that FlytePropeller never hands the task to the agent plugin). The result is validated
 * with the same schema `run --config` uses.
 * @throws FlyteAgentError (`INVALID_CONFIG`) when the input or the result is not a valid config.
 */
export function routeTaskTypes(yamlText: string, options: RouteOptions): RoutingPatch {
  const source = options.source ?? "propeller config";
  if (options.taskTypes.length === 0) throw invalid(source, "no task types to route (pass at least one)");
  const notes: string[] = [];
  if (options.agentId !== options.agentId.toLowerCase()) {
    throw invalid(
      source,
      `deployment id "${options.agentId}" has upper-case letters; FlytePropeller's config loader lowercases map keys, so routes to it would be dropped: use "${options.agentId.toLowerCase()}"`,
    );
  }
  const entryFor = (flavor: Flavor): Record<string, unknown> => ({
    endpoint: options.endpoint,
    insecure: options.insecure ?? true,
    ...(options.defaultServiceConfig ? { defaultServiceConfig: options.defaultServiceConfig } : {}),
    // The list form keeps the operation names' case; a map would be lowercased and ignored.
    ...(options.timeouts && Object.keys(options.timeouts).length > 0
      ? { timeouts: Object.entries(options.timeouts).map(([op, d]) => ({ [op]: d })) }
      : {}),
    defaultTimeout: options.defaultTimeout ?? defaultDeploymentTimeout(flavor),
  });
  const editSection: SectionEdit = (doc, section, flavor) => {
    const { many, forTypes } = keysOf(flavor);
    const entry = entryFor(flavor);
    upsertDeployment(doc, section, many, options.agentId, entry, notes, flavor);
    const found = section.get(forTypes, true);
    let routes: YAMLMap | YAMLSeq;
    if (isSeq(found)) routes = found;
    else if (isMap(found)) {
      routes = found;
      const upper = options.taskTypes.filter((t) => t !== t.toLowerCase());
      if (upper.length > 0) {
        // A map's keys are lowercased by FlytePropeller's loader: rewrite it as the list form.
        const list = doc.createNode([]) as YAMLSeq;
        for (const pair of found.items) {
          const item = doc.createNode({}) as YAMLMap;
          item.set(pair.key, pair.value);
          list.add(item);
        }
        section.set(forTypes, list);
        routes = list;
        notes.push(
          `rewrote ${flavor}.${forTypes} as a list of one-key maps: FlytePropeller lowercases map keys, which would lose the route of ${upper.join(", ")}`,
        );
      }
    } else {
      // The list form keeps the task types' case in FlytePropeller's config loader.
      routes = doc.createNode([]);
      section.set(forTypes, routes);
    }
    for (const taskType of options.taskTypes) {
      const previous = readRoute(routes, taskType);
      if (previous === options.agentId) {
        notes.push(`${taskType} already routes to ${options.agentId}`);
        continue;
      }
      const value = new Scalar(options.agentId);
      if (options.canary) {
        value.comment = ` canary of ${previous ?? "the default agent"}; previously ${previous ?? DEFAULT_TARGET}`;
      }
      writeRoute(doc, routes, taskType, value);
      notes.push(
        `routed ${taskType} to ${options.agentId} in ${flavor}.${forTypes}` +
          (previous ? ` (was ${previous})` : " (was the default agent)"),
      );
    }
  };
  const editPlugins: PluginsEdit = (doc, taskPlugins, flavor) => {
    const enabled = taskPlugins.get("enabled-plugins", true);
    if (isSeq(enabled) && !enabled.items.some((i) => isScalar(i) && i.value === flavor)) {
      enabled.add(doc.createNode(flavor));
      notes.push(`enabled the ${flavor} plugin in enabled_plugins.yaml (tasks.task-plugins.enabled-plugins)`);
    }
    const found = taskPlugins.get("default-for-task-types", true);
    let defaults: YAMLMap | YAMLSeq;
    if (isMap(found) || isSeq(found)) defaults = found;
    else {
      defaults = doc.createNode({});
      taskPlugins.set("default-for-task-types", defaults);
    }
    for (const taskType of options.taskTypes) {
      const previous = readRoute(defaults, taskType);
      if (previous === flavor) continue;
      writeRoute(doc, defaults, taskType, new Scalar(flavor));
      notes.push(
        `mapped ${taskType} to the ${flavor} plugin in enabled_plugins.yaml (tasks.task-plugins.default-for-task-types)` +
          (previous ? `; it was handled by ${previous}` : ""),
      );
    }
  };
  const result = edit(yamlText, source, editSection, editPlugins);
  if (!result.sawPlugins) {
    notes.push(
      `make sure enabled_plugins.yaml maps ${options.taskTypes.join(", ")} to the agent plugin in tasks.task-plugins.default-for-task-types; FlytePropeller does not send other task types to agents`,
    );
  }
  return finish(yamlText, result.text, source, notes, result.configMap);
}

/**
 * Removes the routing to a deployment: task types routed by a canary go back to the target recorded
 * in their comment (or to the default agent), other routes to it are removed, and the deployment
 * entry is deleted unless `removeAgent` is false. `enabled_plugins.yaml` is left alone, since the
 * task types still go to the agent plugin.
 */
export function unrouteAgent(yamlText: string, options: UnrouteOptions): RoutingPatch {
  const source = options.source ?? "propeller config";
  const notes: string[] = [];
  const result = edit(yamlText, source, (_doc, section, flavor) => {
    const { many, forTypes } = keysOf(flavor);
    const routes = section.get(forTypes, true);
    if (isMap(routes) || isSeq(routes)) {
      for (const { taskType, value, remove } of routesTo(routes, options.agentId)) {
        const previous = canaryMark.exec(value.comment ?? "")?.[1];
        if (previous && previous !== DEFAULT_TARGET) {
          value.value = previous;
          value.comment = undefined;
          notes.push(`routed ${taskType} back to ${previous}`);
        } else {
          remove();
          notes.push(`removed the route of ${taskType}; it goes to the default agent again`);
        }
      }
      if (routes.items.length === 0) section.delete(forTypes);
    }
    const deployments = section.get(many, true);
    if (options.removeAgent !== false && isMap(deployments) && deployments.has(options.agentId)) {
      deployments.delete(options.agentId);
      notes.push(`removed ${flavor}.${many}.${options.agentId}`);
      if (deployments.items.length === 0) section.delete(many);
    }
  });
  if (notes.length === 0) notes.push(`nothing routes to ${options.agentId}; the config is unchanged`);
  return finish(yamlText, result.text, source, notes, result.configMap);
}

function finish(
  before: string,
  after: string,
  source: string,
  notes: string[],
  configMap: RoutingPatch["configMap"],
): RoutingPatch {
  const config = parsePropellerConfig(after, `${source} (patched)`);
  for (const w of config.warnings) notes.push(`warning: ${w.key}: ${w.message}`);
  return {
    before,
    after,
    diff: unifiedDiff(before, after, { before: `${source}`, after: `${source} (patched)` }),
    notes,
    config,
    configMap,
  };
}

function upsertDeployment(
  doc: Document,
  section: YAMLMap,
  key: string,
  id: string,
  entry: Record<string, unknown>,
  notes: string[],
  flavor: Flavor,
): void {
  const node = nodeFor(doc, entry);
  const found = section.get(key, true);
  let deployments: YAMLMap;
  if (isMap(found)) deployments = found;
  else {
    deployments = doc.createNode({});
    section.set(key, deployments);
  }
  const existing = deployments.get(id, true);
  if (!isMap(existing)) {
    deployments.set(id, node);
    notes.push(`added ${flavor}.${key}.${id} → ${String(entry.endpoint)}`);
    return;
  }
  // Update in place so comments and unknown keys inside the entry survive.
  for (const managed of ["endpoint", "insecure", "defaultServiceConfig", "timeouts", "defaultTimeout"]) {
    if (!(managed in entry)) existing.delete(managed);
  }
  for (const pair of node.items) existing.set(pair.key, pair.value);
  notes.push(`updated ${flavor}.${key}.${id} → ${String(entry.endpoint)}`);
}

function nodeFor(doc: Document, entry: Record<string, unknown>): YAMLMap {
  const node = doc.createNode(entry) as YAMLMap;
  // Match the quoting Flyte's docs use, which also keeps `dns:///…` unambiguous.
  const endpoint = node.get("endpoint", true);
  if (isScalar(endpoint)) endpoint.type = Scalar.QUOTE_DOUBLE;
  const config = node.get("defaultServiceConfig", true);
  if (isScalar(config)) config.type = Scalar.QUOTE_SINGLE;
  return node;
}

/** Reads `taskType → target` from a map or a list of one-key maps. */
function readRoute(routes: YAMLMap | YAMLSeq, taskType: string): string | undefined {
  const scalarText = (v: unknown) => (isScalar(v) ? String(v.value) : undefined);
  if (isMap(routes)) return scalarText(routes.get(taskType, true));
  for (const item of routes.items) {
    if (isMap(item) && item.has(taskType)) return scalarText(item.get(taskType, true));
  }
  return undefined;
}

function writeRoute(doc: Document, routes: YAMLMap | YAMLSeq, taskType: string, value: Scalar): void {
  if (isMap(routes)) {
    routes.set(taskType, value);
    return;
  }
  for (const item of routes.items) {
    if (isMap(item) && item.has(taskType)) {
      item.set(taskType, value);
      return;
    }
  }
  const item = doc.createNode({}) as YAMLMap;
  item.set(taskType, value);
  routes.add(item);
}

function routesTo(routes: YAMLMap | YAMLSeq, id: string) {
  const found: { taskType: string; value: Scalar; remove: () => void }[] = [];
  const scan = (map: YAMLMap, removeMap: (() => void) | undefined) => {
    for (const pair of [...map.items]) {
      const value = pair.value;
      if (!isScalar(value) || value.value !== id) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      found.push({
        taskType: key,
        value,
        remove: () => {
          map.delete(pair.key);
          if (removeMap && map.items.length === 0) removeMap();
        },
      });
    }
  };
  if (isMap(routes)) scan(routes, undefined);
  else {
    for (const item of [...routes.items]) {
      if (isMap(item)) scan(item, () => routes.items.splice(routes.items.indexOf(item), 1));
    }
  }
  return found;
}

interface EditResult {
  text: string;
  sawPlugins: boolean;
  configMap: RoutingPatch["configMap"];
}

function load(text: string, source: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw invalid(source, `invalid YAML: ${doc.errors[0]!.message}`);
  return doc;
}

function edit(text: string, source: string, editSection: SectionEdit, editPlugins?: PluginsEdit): EditResult {
  // Fail on the input first, so a broken config is reported as such rather than as a broken patch.
  const original = parsePropellerConfig(text, source);
  const doc = load(text, source);
  const root = doc.contents;
  let sawPlugins = false;
  let sawSection = false;
  const visit = (inner: Document): boolean => {
    let changed = false;
    const found = findSection(inner);
    if (found && !sawSection) {
      sawSection = true;
      editSection(inner, found.section, found.flavor);
      changed = true;
    }
    const taskPlugins = inner.getIn(["tasks", "task-plugins"], true);
    if (editPlugins && isMap(taskPlugins)) {
      sawPlugins = true;
      editPlugins(inner, taskPlugins, original.flavor);
      changed = true;
    }
    return changed;
  };
  let configMap: RoutingPatch["configMap"];
  if (isMap(root) && root.get("kind") === "ConfigMap") {
    const data = root.get("data", true);
    const metadata = root.get("metadata", true);
    configMap = {
      name: stringAt(metadata, "name") ?? "",
      namespace: stringAt(metadata, "namespace"),
    };
    if (isMap(data)) {
      for (const pair of data.items) {
        const value = pair.value;
        if (!isScalar(value) || typeof value.value !== "string") continue;
        const inner = parseDocument(value.value);
        if (inner.errors.length > 0) continue;
        if (visit(inner)) value.value = inner.toString();
      }
    }
  } else {
    visit(doc);
  }
  if (!sawSection) throw invalid(source, "no agent-service or connector-service section found");
  return { text: doc.toString(), sawPlugins, configMap };
}

function stringAt(node: unknown, key: string): string | undefined {
  const v: unknown = isMap(node) ? node.get(key) : undefined;
  return typeof v === "string" ? v : undefined;
}

function findSection(doc: Document): { section: YAMLMap; flavor: Flavor } | undefined {
  const root = doc.contents;
  if (!isMap(root)) return undefined;
  const plugins = root.get("plugins", true);
  for (const flavor of ["agent-service", "connector-service"] as const) {
    const inPlugins = isMap(plugins) ? plugins.get(flavor, true) : undefined;
    if (isMap(inPlugins)) return { section: inPlugins, flavor };
    const bare = root.get(flavor, true);
    if (isMap(bare)) return { section: bare, flavor };
  }
  if (["defaultAgent", "agents", "agentForTaskTypes"].some((k) => root.has(k)))
    return { section: root, flavor: "agent-service" };
  if (["defaultConnector", "connectors", "connectorForTaskTypes"].some((k) => root.has(k))) {
    return { section: root, flavor: "connector-service" };
  }
  return undefined;
}
