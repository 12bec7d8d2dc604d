import { parseDocument } from "yaml";
import { z } from "zod";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { type DurationSyntaxOptions, formatDuration, parseDuration } from "../types/duration.js";
import {
  AGENT_SERVICE_DEFAULT_TIMEOUT_MS,
  CONNECTOR_SERVICE_DEFAULT_TIMEOUT_MS,
  DEFAULT_SUPPORTED_TASK_TYPES,
  MAX_DOWNLOAD_MBS,
  MAX_SYSTEM_FAILURES,
  POLL_INTERVAL_MS,
  READ_RATE_LIMITER,
  RESYNC_INTERVAL_MS,
  WEBAPI_RANGES,
} from "./defaults.js";
import { FlyteVersion } from "./profile.js";

/** Operations that take a per-RPC timeout in `timeouts`. */
export const RpcOperation = [
  "CreateTask",
  "GetTask",
  "DeleteTask",
  "ExecuteTaskSync",
  "ListAgents",
  "GetTaskMetrics",
  "GetTaskLogs",
] as const;
export type RpcOperation = (typeof RpcOperation)[number];

/** The two config sections of FlytePropeller's agent plugin. */
export type PluginFlavor = "agent-service" | "connector-service";

/**
 * The key under which an operation's deadline is looked up in `timeouts`. connector-service looks
 * the ListAgents deadline up under `ListConnectors` (`flyteplugins/.../webapi/connector/client.go:110`).
 */
export function timeoutKey(flavor: PluginFlavor, op: RpcOperation): string {
  return flavor === "connector-service" && op === "ListAgents" ? "ListConnectors" : op;
}

/** One agent deployment, with FlytePropeller's defaults applied. */
export interface AgentDeployment {
  readonly id: string;
  readonly flavor: PluginFlavor;
  readonly endpoint: string;
  readonly insecure: boolean;
  readonly defaultServiceConfig: string | undefined;
  /** Per-operation deadlines in ms, keyed as Propeller received them (after viper's lowercasing). */
  readonly timeouts: Readonly<Record<string, number>>;
  /** Fallback deadline in ms; 0 means none. */
  readonly defaultTimeoutMs: number;
  /**
   * Flyte 2 only: the project and domain this deployment serves, "" for all (main
   * `connector/config.go:104-108`). Flyte 1 has no such fields.
   */
  readonly project?: string;
  readonly domain?: string;
}

/** Something in the config that FlytePropeller reads differently from how it looks. */
export interface ConfigWarning {
  /** The dotted path of the key, e.g. `plugins.agent-service.defaultAgent.timeouts.GetTask`. */
  readonly key: string;
  readonly message: string;
}

/** The `agent-service` (or `connector-service`) section, resolved as FlytePropeller resolves it. */
export interface PropellerAgentConfig {
  readonly flavor: PluginFlavor;
  readonly defaultAgent: AgentDeployment | undefined;
  readonly agents: Readonly<Record<string, AgentDeployment>>;
  /** Task type → deployment id; routes to unknown deployments are already dropped (with a warning). */
  readonly agentForTaskTypes: Readonly<Record<string, string>>;
  readonly supportedTaskTypes: readonly string[];
  readonly pollIntervalMs: number;
  readonly resyncIntervalMs: number;
  readonly maxSystemFailures: number;
  readonly readRateLimiter: { readonly qps: number; readonly burst: number };
  /** `storage.limits.maxDownloadMBs` of the same file, else Propeller's default. */
  readonly maxDownloadMBs: number;
  /**
   * Task types that `tasks.task-plugins.default-for-task-types` (enabled_plugins.yaml, when in the
   * same input) hands to this plugin whatever the registry says.
   */
  readonly pluginTaskTypes: readonly string[];
  /** Keys Propeller reads differently from how they look (map-key case, unknown routes). */
  readonly warnings: readonly ConfigWarning[];
  /**
   * Flyte 2 only: `connectorApps`, deployments discovered after the others, whose routes win over
   * them (main `connector/config.go:73`, `connector/client.go:261-262`).
   */
  readonly apps?: Readonly<Record<string, AgentDeployment>>;
}

/** How {@link parsePropellerConfig} reads. */
export interface ParseConfigOptions {
  /**
   * Read the section as this executor does: 1 for FlytePropeller 1.16.8 (agent-service or
   * connector-service), 2 for Flyte 2's connector plugin (connector-service only, with `project` /
   * `domain` on deployments and `connectorApps`). @default 1
   */
  readonly flyte?: FlyteVersion;
}

/**
 * The deadline FlytePropeller sets for `op` on `deployment`: `timeouts[op]` (under `ListConnectors`
 * for connector-service's ListAgents), else `defaultTimeout`; 0 = none
 * (`flyteplugins/.../webapi/agent/client.go:77-92`).
 */
export function deadlineFor(deployment: AgentDeployment, op: RpcOperation): number {
  return deployment.timeouts[timeoutKey(deployment.flavor, op)] ?? deployment.defaultTimeoutMs;
}

/** The default `defaultTimeout` of a flavor's default deployment. */
export function defaultTimeoutOf(flavor: PluginFlavor): number {
  return flavor === "agent-service" ? AGENT_SERVICE_DEFAULT_TIMEOUT_MS : CONNECTOR_SERVICE_DEFAULT_TIMEOUT_MS;
}

/** A config that sends everything to one endpoint, with FlytePropeller's defaults otherwise. */
export function endpointConfig(
  endpoint: string,
  options: {
    readonly insecure?: boolean;
    readonly timeouts?: Readonly<Record<string, number>>;
    readonly defaultTimeoutMs?: number;
    readonly flavor?: PluginFlavor;
  } = {},
): PropellerAgentConfig {
  const flavor = options.flavor ?? "agent-service";
  return {
    flavor,
    defaultAgent: {
      id: flavor === "agent-service" ? "defaultAgent" : "defaultConnector",
      flavor,
      endpoint,
      insecure: options.insecure ?? true,
      defaultServiceConfig: undefined,
      timeouts: { ...(options.timeouts ?? {}) },
      defaultTimeoutMs: options.defaultTimeoutMs ?? defaultTimeoutOf(flavor),
    },
    agents: {},
    agentForTaskTypes: {},
    supportedTaskTypes: [...DEFAULT_SUPPORTED_TASK_TYPES[flavor]],
    pollIntervalMs: POLL_INTERVAL_MS,
    resyncIntervalMs: RESYNC_INTERVAL_MS,
    maxSystemFailures: MAX_SYSTEM_FAILURES,
    readRateLimiter: { ...READ_RATE_LIMITER },
    maxDownloadMBs: MAX_DOWNLOAD_MBS,
    pluginTaskTypes: [],
    warnings: [],
  };
}

/** Propeller writes and reads durations as Go does. */
const GO: DurationSyntaxOptions = { syntax: "go" };

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === "number") return v * 1000; // plain numbers are seconds
  // Propeller's config.Duration reads strings with Go's time.ParseDuration.
  const ms = parseDuration(v, GO);
  if (ms !== undefined) return ms;
  ctx.addIssue({ code: "custom", message: `invalid duration ${JSON.stringify(v)}` });
  return z.NEVER;
});

const range = (name: keyof typeof WEBAPI_RANGES) => {
  const [min, max] = WEBAPI_RANGES[name];
  return { min, max };
};

const deploymentSchema = z
  .object({
    endpoint: z.string().min(1, "endpoint must not be empty"),
    insecure: z.boolean().optional(),
    defaultServiceConfig: z.string().optional(),
    timeouts: z.record(z.string(), duration).optional(),
    defaultTimeout: duration.optional(),
    project: z.string().optional(),
    domain: z.string().optional(),
  })
  .loose();

const webApiSchema = z
  .object({
    caching: z
      .object({
        resyncInterval: duration
          .refine((ms) => ms >= range("resyncIntervalMs").min && ms <= range("resyncIntervalMs").max, {
            message: `must be between ${formatDuration(range("resyncIntervalMs").min, GO)} and ${formatDuration(range("resyncIntervalMs").max, GO)}`,
          })
          .optional(),
        workers: z.number().int().min(range("workers").min).max(range("workers").max).optional(),
        maxSystemFailures: z.number().int().min(0).optional(),
        size: z.number().int().min(range("size").min).max(range("size").max).optional(),
      })
      .loose()
      .optional(),
    readRateLimiter: z
      .object({
        // A float in Propeller (`pluginmachinery/webapi/plugin.go` RateLimiterConfig.QPS).
        qps: z.number().min(range("qps").min).max(range("qps").max).optional(),
        burst: z.number().int().min(range("burst").min).max(range("burst").max).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const sectionSchema = z
  .object({
    default: deploymentSchema.optional(),
    many: z.record(z.string(), deploymentSchema).optional(),
    apps: z.record(z.string(), deploymentSchema).optional(),
    forTypes: z.record(z.string(), z.string()).optional(),
    supportedTaskTypes: z.array(z.string()).optional(),
    pollInterval: duration.optional(),
    webApi: webApiSchema.optional(),
  })
  .loose();

/** The field names of a section, per flavor. */
function fieldsOf(flavor: PluginFlavor) {
  return flavor === "agent-service"
    ? { default: "defaultAgent", many: "agents", forTypes: "agentForTaskTypes" }
    : { default: "defaultConnector", many: "connectors", forTypes: "connectorForTaskTypes" };
}

/**
 * Reads FlytePropeller's agent routing config from YAML text — a whole ConfigMap (any data key holding
 * `plugins.agent-service` or `plugins.connector-service`), a `plugins:` document, or the bare section —
 * the way Propeller's loader (viper plus flytestdlib's hooks) reads it: map keys are lowercased (only
 * keys inside lists keep their case), a list of one-key maps is merged into a map, routes to unknown
 * deployments are ignored. Each such surprise is returned in `warnings`.
 * @throws FlyteAgentError (`INVALID_CONFIG`) naming the offending key, e.g. `plugins.agent-service.webApi.caching.size`.
 */
export function parsePropellerConfig(
  yamlText: string,
  source = "config",
  options: ParseConfigOptions = {},
): PropellerAgentConfig {
  const flyte2 = options.flyte === FlyteVersion.V2;
  const doc = loadYaml(yamlText, source);
  const found = findSection(doc, [], flyte2 ? ["connector-service"] : undefined);
  if (!found) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      flyte2
        ? `${source}: no connector-service section found (Flyte 2's executor reads plugins.connector-service: a ConfigMap holding it, a plugins: document, or the bare section)`
        : `${source}: no agent-service or connector-service section found (expected plugins.agent-service, a ConfigMap holding it, or the bare section)`,
    );
  }
  const { flavor, path, storageLimit } = found;
  const names = fieldsOf(flavor);
  const warnings: ConfigWarning[] = [];
  const raw = (typeof found.value === "object" && found.value !== null ? found.value : {}) as Record<
    string,
    unknown
  >;
  const at = (...keys: string[]) => [...path, ...keys].join(".");
  const folded = {
    ...raw,
    default: foldDeployment(raw[names.default], flavor, [names.default], at, warnings),
    many: foldDeployments(raw[names.many], flavor, names, at, warnings),
    forTypes: foldRoutes(raw[names.forTypes], names.forTypes, at, warnings),
    // Flyte 1's section has no connectorApps: viper ignores the key there.
    apps: flyte2
      ? foldDeployments(raw.connectorApps, flavor, { ...names, many: "connectorApps" }, at, warnings)
      : undefined,
  };
  const parsed = sectionSchema.safeParse(folded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const segs = issue.path.map(String);
    if (segs[0] === "default") segs[0] = names.default;
    if (segs[0] === "many") segs[0] = names.many;
    if (segs[0] === "forTypes") segs[0] = names.forTypes;
    if (segs[0] === "apps") segs[0] = "connectorApps";
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `${source}: ${at(...segs) || "(root)"}: ${issue.message}`,
    );
  }
  const s = parsed.data;
  const toDeployment = (
    id: string,
    d: z.output<typeof deploymentSchema>,
    isDefault: boolean,
  ): AgentDeployment => ({
    id,
    flavor,
    endpoint: d.endpoint,
    // Only the default deployment has defaults; entries under `agents` get none: TLS, no service
    // config, no deadline at all (`agent/config.go:42-47,81-96`, `agent/client.go:85-92`).
    insecure: d.insecure ?? isDefault,
    defaultServiceConfig: d.defaultServiceConfig,
    timeouts: d.timeouts ?? {},
    defaultTimeoutMs: d.defaultTimeout ?? (isDefault ? defaultTimeoutOf(flavor) : 0),
    // Flyte 2 routes by them (main `connector/client.go:208,238,250`); Flyte 1 has no such fields.
    ...(flyte2 ? { project: d.project ?? "", domain: d.domain ?? "" } : {}),
  });
  const agents = Object.fromEntries(
    Object.entries(s.many ?? {}).map(([id, d]) => [id, toDeployment(id, d, false)]),
  );
  const forTypes: Record<string, string> = {};
  for (const [taskType, id] of Object.entries(s.forTypes ?? {})) {
    if (id in agents) {
      forTypes[taskType] = id;
      continue;
    }
    // Propeller skips such a route silently (`agent/client.go:154-159`).
    const lowered = Object.keys(agents).find((k) => k === id.toLowerCase());
    warnings.push({
      key: at(names.forTypes, taskType),
      message:
        `routes to "${id}", which is not a deployment, so FlytePropeller ignores this route and ${taskType} goes to the default ${flavor === "agent-service" ? "agent" : "connector"}` +
        (lowered
          ? ` (the deployment is called "${lowered}" after viper lowercased its key; write ${names.many} as a list to keep the case, e.g.\n  ${names.many}:\n    - ${id}:\n        endpoint: ...)`
          : ` (known: ${Object.keys(agents).join(", ") || "none"})`),
    });
  }
  return {
    flavor,
    defaultAgent: s.default ? toDeployment(names.default, s.default, true) : undefined,
    agents,
    agentForTaskTypes: forTypes,
    supportedTaskTypes: s.supportedTaskTypes ?? [...DEFAULT_SUPPORTED_TASK_TYPES[flavor]],
    pollIntervalMs: s.pollInterval ?? POLL_INTERVAL_MS,
    resyncIntervalMs: s.webApi?.caching?.resyncInterval ?? RESYNC_INTERVAL_MS,
    maxSystemFailures: s.webApi?.caching?.maxSystemFailures ?? MAX_SYSTEM_FAILURES,
    readRateLimiter: {
      qps: s.webApi?.readRateLimiter?.qps ?? READ_RATE_LIMITER.qps,
      burst: s.webApi?.readRateLimiter?.burst ?? READ_RATE_LIMITER.burst,
    },
    maxDownloadMBs: storageLimit ?? MAX_DOWNLOAD_MBS,
    pluginTaskTypes: found.defaultFor.filter(([, plugin]) => plugin === flavor).map(([taskType]) => taskType),
    warnings,
    ...(flyte2
      ? {
          apps: Object.fromEntries(
            Object.entries(s.apps ?? {}).map(([id, d]) => [id, toDeployment(id, d, false)]),
          ),
        }
      : {}),
  };
}

/**
 * A map-valued key as Propeller's loader leaves it: a list of one-key maps is merged keeping the case
 * (`flytestdlib/config/viper/viper.go:183-209`, arrays restored at `:268-296`); a map has its keys
 * lowercased by viper. Returns the map and the original → folded key pairs that changed.
 */
function foldMap(value: unknown): { map: Record<string, unknown>; lowered: [string, string][] } | undefined {
  if (Array.isArray(value)) {
    const map: Record<string, unknown> = {};
    for (const item of value) {
      if (typeof item === "object" && item !== null && !Array.isArray(item)) Object.assign(map, item);
    }
    return { map, lowered: [] };
  }
  if (typeof value !== "object" || value === null) return undefined;
  const map: Record<string, unknown> = {};
  const lowered: [string, string][] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const low = k.toLowerCase();
    if (low !== k) lowered.push([k, low]);
    map[low] = v;
  }
  return { map, lowered };
}

/** A YAML scalar as written, for messages. */
const scalarText = (v: unknown): string =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : "...";

function listForm(key: string, entries: [string, unknown][]): string {
  const line = ([k, v]: [string, unknown]) => `    - ${k}: ${scalarText(v)}`;
  return `  ${key}:\n${entries.map(line).join("\n")}`;
}

function foldDeployment(
  value: unknown,
  flavor: PluginFlavor,
  keys: string[],
  at: (...k: string[]) => string,
  warnings: ConfigWarning[],
): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const d = value as Record<string, unknown>;
  if (d.timeouts === undefined) return d;
  const folded = foldMap(d.timeouts);
  if (!folded) return d;
  const isDefault = keys.length === 1;
  const fallback = isDefault ? formatDuration(defaultTimeoutOf(flavor), GO) : "no deadline at all";
  const fallbackText =
    d.defaultTimeout !== undefined ? `its defaultTimeout (${scalarText(d.defaultTimeout)})` : fallback;
  const original = Object.entries(d.timeouts as Record<string, unknown>);
  for (const [orig, low] of folded.lowered) {
    warnings.push({
      key: at(...keys, "timeouts", orig),
      message:
        `FlytePropeller loads its config through viper, which lowercases map keys: this timeout arrives as "${low}", the lookup of "${orig}" misses, and the call runs with ${fallbackText}. ` +
        `Write timeouts as a list, which keeps the case:\n${listForm("timeouts", original)}`,
    });
  }
  for (const key of Object.keys(folded.map)) {
    const known = RpcOperation.some((op) => timeoutKey(flavor, op) === key);
    const wasLowered = folded.lowered.some(([, low]) => low === key);
    if (!known && !wasLowered) {
      warnings.push({
        key: at(...keys, "timeouts", key),
        message: `FlytePropeller looks up no operation named "${key}" (it looks up ${RpcOperation.map((op) => timeoutKey(flavor, op)).join(", ")}), so this timeout has no effect`,
      });
    }
  }
  return { ...d, timeouts: folded.map };
}

function foldDeployments(
  value: unknown,
  flavor: PluginFlavor,
  names: ReturnType<typeof fieldsOf>,
  at: (...k: string[]) => string,
  warnings: ConfigWarning[],
): unknown {
  const folded = foldMap(value);
  if (!folded) return value;
  for (const [orig, low] of folded.lowered) {
    warnings.push({
      key: at(names.many, orig),
      message: `viper lowercases map keys: this deployment is called "${low}" in FlytePropeller, so a ${names.forTypes} route naming "${orig}" is dropped. Write ${names.many} as a list to keep the case:\n  ${names.many}:\n    - ${orig}:\n        endpoint: ...`,
    });
  }
  const out: Record<string, unknown> = {};
  const originalOf = (id: string) => folded.lowered.find(([, low]) => low === id)?.[0] ?? id;
  for (const [id, d] of Object.entries(folded.map)) {
    out[id] = foldDeployment(d, flavor, [names.many, originalOf(id)], at, warnings);
  }
  return out;
}

function foldRoutes(
  value: unknown,
  key: string,
  at: (...k: string[]) => string,
  warnings: ConfigWarning[],
): unknown {
  const folded = foldMap(value);
  if (!folded) return value;
  for (const [orig, low] of folded.lowered) {
    warnings.push({
      key: at(key, orig),
      message: `viper lowercases map keys: this route is for task type "${low}", not "${orig}", so tasks of type ${orig} are not routed by it. Write ${key} as a list to keep the case:\n  ${key}:\n    - ${orig}: ${String(folded.map[low])}`,
    });
  }
  return folded.map;
}

function loadYaml(text: string, source: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `${source}: invalid YAML: ${doc.errors[0]!.message}`);
  }
  return doc.toJS();
}

interface FoundSection {
  readonly flavor: PluginFlavor;
  readonly value: unknown;
  readonly path: string[];
  readonly storageLimit: number | undefined;
  /** `tasks.task-plugins.default-for-task-types` entries: [task type, plugin id]. */
  readonly defaultFor: readonly (readonly [string, string])[];
}

/** `tasks.task-plugins.default-for-task-types` of a document, as [task type, plugin] pairs. */
function defaultForOf(doc: Record<string, unknown>): [string, string][] {
  const tasks = doc.tasks as Record<string, unknown> | undefined;
  const plugins = (tasks && typeof tasks === "object" ? tasks["task-plugins"] : undefined) as
    Record<string, unknown> | undefined;
  const value = plugins && typeof plugins === "object" ? plugins["default-for-task-types"] : undefined;
  const entries = Array.isArray(value)
    ? value.flatMap((item) => (typeof item === "object" && item !== null ? Object.entries(item) : []))
    : typeof value === "object" && value !== null
      ? Object.entries(value)
      : [];
  return entries.filter((e): e is [string, string] => typeof e[1] === "string");
}

/** `storage.limits.maxDownloadMBs` of a document (viper matches struct keys case-insensitively). */
function storageLimitOf(doc: Record<string, unknown>): number | undefined {
  const get = (o: unknown, k: string): unknown =>
    typeof o === "object" && o !== null
      ? Object.entries(o as Record<string, unknown>).find(([key]) => key.toLowerCase() === k)?.[1]
      : undefined;
  const v = get(get(get(doc, "storage"), "limits"), "maxdownloadmbs");
  return typeof v === "number" && v > 0 ? v : undefined;
}

function findSection(
  doc: unknown,
  path: string[] = [],
  flavors: readonly PluginFlavor[] = ["agent-service", "connector-service"],
): FoundSection | undefined {
  if (typeof doc !== "object" || doc === null) return undefined;
  const obj = doc as Record<string, unknown>;
  if (obj.kind === "ConfigMap" && typeof obj.data === "object" && obj.data !== null) {
    let hit: FoundSection | undefined;
    let limit: number | undefined;
    const defaultFor: [string, string][] = [];
    for (const [key, text] of Object.entries(obj.data as Record<string, unknown>)) {
      if (typeof text !== "string") continue;
      let inner: unknown;
      try {
        inner = parseDocument(text).toJS();
      } catch {
        continue;
      }
      if (typeof inner === "object" && inner !== null) {
        limit ??= storageLimitOf(inner as Record<string, unknown>);
        defaultFor.push(...defaultForOf(inner as Record<string, unknown>));
      }
      hit ??= findSection(inner, [...path, "data", key], flavors);
    }
    return hit
      ? { ...hit, storageLimit: hit.storageLimit ?? limit, defaultFor: [...hit.defaultFor, ...defaultFor] }
      : undefined;
  }
  const storageLimit = storageLimitOf(obj);
  const defaultFor = defaultForOf(obj);
  const plugins = obj.plugins as Record<string, unknown> | undefined;
  if (plugins && typeof plugins === "object") {
    for (const flavor of flavors) {
      if (flavor in plugins)
        return {
          flavor,
          value: plugins[flavor],
          path: [...path, "plugins", flavor],
          storageLimit,
          defaultFor,
        };
    }
  }
  for (const flavor of flavors) {
    if (flavor in obj)
      return { flavor, value: obj[flavor], path: [...path, flavor], storageLimit, defaultFor };
  }
  if (
    flavors.includes("agent-service") &&
    ("defaultAgent" in obj || "agents" in obj || "agentForTaskTypes" in obj)
  ) {
    return { flavor: "agent-service", value: obj, path, storageLimit, defaultFor };
  }
  if ("defaultConnector" in obj || "connectors" in obj || "connectorForTaskTypes" in obj) {
    return { flavor: "connector-service", value: obj, path, storageLimit, defaultFor };
  }
  return undefined;
}
