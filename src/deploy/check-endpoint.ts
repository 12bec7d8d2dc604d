import { AgentClient, type TlsOptions } from "../client/agent-client.js";
import { formatCategory } from "@flyte-agent/runtime/internal/core/task-category.js";
import { parseCategory } from "@flyte-agent/runtime/internal/core/registry.js";
import { AGENT_SERVICE_DEFAULT_TIMEOUT_MS } from "@flyte-agent/runtime/internal/propeller/defaults.js";
import { buildRegistry } from "@flyte-agent/runtime/internal/propeller/registry.js";
import { endpointConfig } from "@flyte-agent/runtime/internal/propeller/config.js";

/** A task category the endpoint must serve; `isSync` is checked when given. */
export interface ExpectedCategory {
  readonly name: string;
  readonly version?: number;
  readonly isSync?: boolean;
}

/** Options of {@link checkAgentEndpoint}. */
export interface EndpointCheckOptions {
  /**
   * What the endpoint must list in ListAgents, exactly (a canary must take nothing else). Strings are
   * `"name"` (version 0) or `"name_vN"`. @default any non-empty set
   */
  readonly expected?: readonly (string | ExpectedCategory)[];
  /** Deadline of each call, as FlytePropeller's ListAgents deadline. @default agent-service's 3 s */
  readonly timeoutMs?: number;
  /** TLS towards the endpoint. @default plaintext */
  readonly tls?: boolean | TlsOptions;
}

/** One named check and its outcome. */
export interface EndpointCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The outcome of {@link checkAgentEndpoint}. */
export interface EndpointCheckResult {
  readonly address: string;
  readonly ok: boolean;
  readonly checks: readonly EndpointCheck[];
  /** Categories the endpoint listed (`name_vN`), with `is_sync`. */
  readonly served: readonly { readonly category: string; readonly agent: string; readonly isSync: boolean }[];
}

/**
 * Checks an agent server the way FlytePropeller will meet it: `grpc.health.v1` reports SERVING, and
 * ListAgents answers within the deadline listing exactly the expected task categories, each once,
 * with the expected `is_sync`. Never throws for a failing endpoint: the result says what failed.
 */
export async function checkAgentEndpoint(
  address: string,
  options: EndpointCheckOptions = {},
): Promise<EndpointCheckResult> {
  const timeoutMs = options.timeoutMs ?? AGENT_SERVICE_DEFAULT_TIMEOUT_MS;
  const checks: EndpointCheck[] = [];
  const served: { category: string; agent: string; isSync: boolean }[] = [];
  const client = new AgentClient(address, { tls: options.tls ?? false });
  try {
    try {
      const res = await client.health({ deadlineMs: timeoutMs });
      const status = res.value.status;
      checks.push({ name: "health", ok: status === "SERVING", detail: `grpc.health.v1 reports ${status}` });
    } catch (err) {
      checks.push({ name: "health", ok: false, detail: `grpc.health.v1 failed: ${(err as Error).message}` });
    }
    try {
      const res = await client.listAgents({ deadlineMs: timeoutMs });
      checks.push({
        name: "list-agents",
        ok: true,
        detail: `ListAgents answered in ${Math.round(res.ms)} ms`,
      });
      for (const agent of res.value.agents) {
        const categories =
          agent.supportedTaskCategories.length > 0
            ? agent.supportedTaskCategories
            : agent.supportedTaskTypes.map((name) => ({ name, version: 0 }));
        for (const c of categories)
          served.push({ category: formatCategory(c), agent: agent.name, isSync: agent.isSync });
      }
      // FlytePropeller keeps one version per task type name: more is lost on the cluster.
      const config = endpointConfig(address);
      const lost = buildRegistry(config, [
        { deployment: config.defaultAgent!, agents: res.value.agents },
      ]).warnings;
      checks.push(
        ...compare(
          served,
          options.expected,
          lost.map((w) => w.message),
        ),
      );
    } catch (err) {
      checks.push({
        name: "list-agents",
        ok: false,
        detail: `ListAgents failed within ${timeoutMs} ms: ${(err as Error).message}`,
      });
    }
  } finally {
    client.close();
  }
  return { address, ok: checks.every((c) => c.ok), checks, served };
}

function compare(
  served: readonly { category: string; agent: string; isSync: boolean }[],
  expected: EndpointCheckOptions["expected"],
  lostVersions: readonly string[],
): EndpointCheck[] {
  const out: EndpointCheck[] = [];
  const names = served.map((s) => s.category);
  const dupes = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  out.push({
    name: "unique-categories",
    ok: dupes.length === 0 && lostVersions.length === 0,
    detail:
      dupes.length > 0
        ? `listed more than once: ${dupes.join(", ")}`
        : lostVersions.length > 0
          ? lostVersions.join("; ")
          : "every category is listed once",
  });
  if (!expected) {
    out.push({
      name: "task-types",
      ok: served.length > 0,
      detail: `serves ${names.join(", ") || "nothing"}`,
    });
    return out;
  }
  const want = expected.map((e) => {
    const c = typeof e === "string" ? parseCategory(e) : { name: e.name, version: e.version ?? 0 };
    return { category: formatCategory(c), isSync: typeof e === "string" ? undefined : e.isSync };
  });
  const missing = want.filter((w) => !names.includes(w.category)).map((w) => w.category);
  const extra = names.filter((n) => !want.some((w) => w.category === n));
  out.push({
    name: "task-types",
    ok: missing.length === 0 && extra.length === 0,
    detail:
      missing.length === 0 && extra.length === 0
        ? `serves exactly ${want.map((w) => w.category).join(", ")}`
        : [
            missing.length ? `missing ${missing.join(", ")}` : "",
            extra.length ? `not allowed ${extra.join(", ")}` : "",
          ]
            .filter(Boolean)
            .join("; "),
  });
  const wrongSync = want.filter(
    (w) => w.isSync !== undefined && served.some((s) => s.category === w.category && s.isSync !== w.isSync),
  );
  out.push({
    name: "is-sync",
    ok: wrongSync.length === 0,
    detail:
      wrongSync.length === 0
        ? "is_sync as expected"
        : `wrong is_sync for ${wrongSync.map((w) => `${w.category} (expected ${w.isSync ? "sync" : "async"})`).join(", ")}`,
  });
  return out;
}
