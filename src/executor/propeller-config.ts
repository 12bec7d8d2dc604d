import { parseDocument } from "yaml";
import { z } from "zod";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";

/** Parses a Go duration (`"5s"`, `"1m30s"`, `"250ms"`, `"0"`) into milliseconds. */
export function parseGoDuration(text: string): number {
  const s = text.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const unit = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "s"];
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (matched !== s.length || s.length === 0) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return total;
}

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === "number") return v * 1000; // plain numbers are seconds
  try {
    return parseGoDuration(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

const durationIn = (minMs: number, maxMs: number, label: string) =>
  duration.refine((ms) => ms >= minMs && ms <= maxMs, { message: `must be between ${label}` });

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

const deploymentSchema = z
  .object({
    endpoint: z.string().min(1, "endpoint must not be empty"),
    insecure: z.boolean().optional(),
    defaultServiceConfig: z.string().optional(),
    timeouts: z.record(z.string(), duration).optional(),
    defaultTimeout: duration.optional(),
  })
  .loose();

const taskTypeMap = z.union([
  z.record(z.string(), z.string()),
  // The docs show a list of one-key maps; FlytePropeller's code reads a map. Accept both.
  z
    .array(z.record(z.string(), z.string()))
    .transform((list) => Object.assign({}, ...list) as Record<string, string>),
]);

const webApiSchema = z
  .object({
    caching: z
      .object({
        resyncInterval: durationIn(5_000, 3_600_000, "5s and 1h").optional(),
        workers: z.number().int().min(1).max(10_000).optional(),
        maxSystemFailures: z.number().int().min(0).optional(),
        size: z.number().int().min(10).max(500_000).optional(),
      })
      .loose()
      .optional(),
    readRateLimiter: z
      .object({
        qps: z.number().int().min(1).max(100_000).optional(),
        burst: z.number().int().min(5).max(10_000).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

function sectionSchema(flavor: "agent" | "connector") {
  const d = flavor === "agent" ? "defaultAgent" : "defaultConnector";
  const many = flavor === "agent" ? "agents" : "connectors";
  const forTypes = flavor === "agent" ? "agentForTaskTypes" : "connectorForTaskTypes";
  return z
    .object({
      [d]: deploymentSchema.optional(),
      [many]: z.record(z.string(), deploymentSchema).optional(),
      [forTypes]: taskTypeMap.optional(),
      supportedTaskTypes: z.array(z.string()).optional(),
      pollInterval: duration.optional(),
      webApi: webApiSchema.optional(),
    })
    .loose();
}

/** One agent deployment, with FlytePropeller's defaults applied. */
export interface AgentDeployment {
  readonly id: string;
  readonly endpoint: string;
  readonly insecure: boolean;
  readonly defaultServiceConfig: string | undefined;
  /** Per-operation deadlines in ms; 0 means no deadline. */
  readonly timeouts: Readonly<Record<string, number>>;
  /** Fallback deadline in ms; 0 means none. */
  readonly defaultTimeoutMs: number;
}

/** The `agent-service` (or `connector-service`) section, resolved with FlytePropeller's defaults. */
export interface PropellerAgentConfig {
  readonly flavor: "agent-service" | "connector-service";
  readonly defaultAgent: AgentDeployment | undefined;
  readonly agents: Readonly<Record<string, AgentDeployment>>;
  readonly agentForTaskTypes: Readonly<Record<string, string>>;
  readonly supportedTaskTypes: readonly string[];
  readonly pollIntervalMs: number;
  readonly resyncIntervalMs: number;
  readonly maxSystemFailures: number;
  readonly readRateLimiter: { readonly qps: number; readonly burst: number };
}

/** The deadline FlytePropeller sets for `op` on `deployment`: `timeouts[op]`, else `defaultTimeout`; 0 = none. */
export function deadlineFor(deployment: AgentDeployment, op: RpcOperation): number {
  return deployment.timeouts[op] ?? deployment.defaultTimeoutMs;
}

/**
 * Reads FlytePropeller's agent routing config from YAML text: a whole ConfigMap (any data key holding
 * `plugins.agent-service` or `plugins.connector-service`), a `plugins:` document, or the bare section.
 * @throws FlyteAgentError (`INVALID_CONFIG`) naming the offending key, e.g. `plugins.agent-service.webApi.caching.size`.
 */
export function parsePropellerConfig(yamlText: string, source = "config"): PropellerAgentConfig {
  const doc = loadYaml(yamlText, source);
  const found = findSection(doc);
  if (!found) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `${source}: no agent-service or connector-service section found (expected plugins.agent-service, a ConfigMap holding it, or the bare section)`,
    );
  }
  const { flavor, value, path } = found;
  const parsed = sectionSchema(flavor === "agent-service" ? "agent" : "connector").safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = [...path, ...issue.path.map(String)].join(".");
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `${source}: ${key || "(root)"}: ${issue.message}`);
  }
  const config = resolve(flavor, parsed.data);
  const forTypesKey = flavor === "agent-service" ? "agentForTaskTypes" : "connectorForTaskTypes";
  for (const [taskType, id] of Object.entries(config.agentForTaskTypes)) {
    if (!(id in config.agents)) {
      const known = Object.keys(config.agents).join(", ") || "none";
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `${source}: ${[...path, forTypesKey, taskType].join(".")}: routes to "${id}", which is not a deployment (known: ${known})`,
      );
    }
  }
  return config;
}

function loadYaml(text: string, source: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `${source}: invalid YAML: ${doc.errors[0]!.message}`);
  }
  return doc.toJS();
}

interface FoundSection {
  flavor: "agent-service" | "connector-service";
  value: unknown;
  path: string[];
}

function findSection(doc: unknown, path: string[] = []): FoundSection | undefined {
  if (typeof doc !== "object" || doc === null) return undefined;
  const obj = doc as Record<string, unknown>;
  if (obj.kind === "ConfigMap" && typeof obj.data === "object" && obj.data !== null) {
    for (const [key, text] of Object.entries(obj.data as Record<string, unknown>)) {
      if (typeof text !== "string") continue;
      let inner: unknown;
      try {
        inner = parseDocument(text).toJS();
      } catch {
        continue;
      }
      const hit = findSection(inner, [...path, "data", key]);
      if (hit) return hit;
    }
    return undefined;
  }
  const plugins = obj.plugins as Record<string, unknown> | undefined;
  if (plugins && typeof plugins === "object") {
    for (const flavor of ["agent-service", "connector-service"] as const) {
      if (flavor in plugins) return { flavor, value: plugins[flavor], path: [...path, "plugins", flavor] };
    }
  }
  for (const flavor of ["agent-service", "connector-service"] as const) {
    if (flavor in obj) return { flavor, value: obj[flavor], path: [...path, flavor] };
  }
  if ("defaultAgent" in obj || "agents" in obj || "agentForTaskTypes" in obj) {
    return { flavor: "agent-service", value: obj, path };
  }
  if ("defaultConnector" in obj || "connectors" in obj || "connectorForTaskTypes" in obj) {
    return { flavor: "connector-service", value: obj, path };
  }
  return undefined;
}

type DeploymentInput = z.output<typeof deploymentSchema>;

function resolve(
  flavor: "agent-service" | "connector-service",
  s: Record<string, unknown>,
): PropellerAgentConfig {
  const isAgent = flavor === "agent-service";
  const def = s[isAgent ? "defaultAgent" : "defaultConnector"] as DeploymentInput | undefined;
  const many = (s[isAgent ? "agents" : "connectors"] ?? {}) as Record<string, DeploymentInput>;
  const webApi = s.webApi as z.output<typeof webApiSchema> | undefined;
  const toDeployment = (id: string, d: DeploymentInput, defaults: boolean): AgentDeployment => ({
    id,
    endpoint: d.endpoint,
    // Only the default deployment gets defaults; entries under `agents` get none (TLS, no deadline).
    insecure: d.insecure ?? defaults,
    defaultServiceConfig: d.defaultServiceConfig,
    timeouts: d.timeouts ?? {},
    defaultTimeoutMs: d.defaultTimeout ?? (defaults ? (isAgent ? 3_000 : 10_000) : 0),
  });
  return {
    flavor,
    defaultAgent: def ? toDeployment(isAgent ? "defaultAgent" : "defaultConnector", def, true) : undefined,
    agents: Object.fromEntries(Object.entries(many).map(([id, d]) => [id, toDeployment(id, d, false)])),
    agentForTaskTypes: (s[isAgent ? "agentForTaskTypes" : "connectorForTaskTypes"] ?? {}) as Record<
      string,
      string
    >,
    supportedTaskTypes: (s.supportedTaskTypes ?? []) as string[],
    pollIntervalMs: (s.pollInterval as number | undefined) ?? 10_000,
    resyncIntervalMs: webApi?.caching?.resyncInterval ?? 30_000,
    maxSystemFailures: webApi?.caching?.maxSystemFailures ?? 5,
    readRateLimiter: {
      qps: webApi?.readRateLimiter?.qps ?? 10,
      burst: webApi?.readRateLimiter?.burst ?? 100,
    },
  };
}
