import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { routeTaskTypes, unrouteAgent } from "../../src/deploy/propeller-routing.js";
import { unifiedDiff } from "../../src/deploy/unified-diff.js";
import { parsePropellerConfig } from "../../packages/runtime/src/propeller/config.js";

const seed = readFileSync(new URL("./fixtures/propeller-configmap.yaml", import.meta.url), "utf8");
const endpoint = "dns:///bq-agent.flyte.svc.cluster.local:8000";
const dataOf = (text: string, key: string) =>
  (parseDocument(text).toJS() as { data: Record<string, string> }).data[key]!;

describe("routeTaskTypes on the example configmap", () => {
  const patch = routeTaskTypes(seed, {
    agentId: "bq-agent",
    endpoint,
    taskTypes: ["bigquery_query_job_task", "new_task"],
  });

  it("adds the deployment and routes the task types, as parsePropellerConfig reads it", () => {
    const config = parsePropellerConfig(patch.after);
    // An agents entry gets no deadline from FlytePropeller: the patch writes the default agent's 3 s.
    expect(config.agents["bq-agent"]).toMatchObject({ endpoint, insecure: true, defaultTimeoutMs: 3_000 });
    expect(config.agents["bq-agent"]!.timeouts).toEqual({});
    expect(config.agentForTaskTypes).toEqual({
      custom_task: "custom_agent",
      bigquery_query_job_task: "bq-agent",
      new_task: "bq-agent",
    });
    expect(patch.configMap).toEqual({ name: "flyte-propeller-config", namespace: "flyte" });
  });

  it("writes per-op timeouts in the list form, the only one whose keys keep their case in FlytePropeller", () => {
    const withTimeouts = routeTaskTypes(seed, {
      agentId: "bq-agent",
      endpoint,
      taskTypes: ["bigquery_query_job_task"],
      timeouts: { ExecuteTaskSync: "10s" },
    });
    expect(dataOf(withTimeouts.after, "agent_service.yaml")).toMatch(/timeouts:\n\s+- ExecuteTaskSync: 10s/);
    const config = parsePropellerConfig(withTimeouts.after);
    expect(config.agents["bq-agent"]!.timeouts).toEqual({ ExecuteTaskSync: 10_000 });
    expect(withTimeouts.notes.filter((n) => n.includes("bq-agent") && n.startsWith("warning"))).toEqual([]);
  });

  it("warns about keys of the existing config that FlytePropeller reads differently, naming them", () => {
    const warnings = patch.notes.filter((n) => n.startsWith("warning: "));
    expect(warnings.map((w) => w.slice(9, w.indexOf(": ", 9)))).toEqual([
      "data.agent_service.yaml.plugins.agent-service.defaultAgent.timeouts.GetTask",
      "data.agent_service.yaml.plugins.agent-service.agents.custom_agent.timeouts.GetTask",
    ]);
    expect(warnings[0]).toContain("timeouts:\n    - GetTask: 5s");
  });

  it("refuses a mixed-case deployment id, which FlytePropeller's loader would lowercase", () => {
    expect(() => routeTaskTypes(seed, { agentId: "BqAgent", endpoint, taskTypes: ["x"] })).toThrow(
      /lowercases map keys.*use "bqagent"/,
    );
  });

  it("keeps every other key and every comment byte for byte", () => {
    const before = seed.split("\n");
    const after = patch.after.split("\n");
    // Every original line survives in order: the patch only inserts.
    let j = 0;
    for (const line of before) {
      while (j < after.length && after[j] !== line) j++;
      expect(j, `line ${JSON.stringify(line)} kept`).toBeLessThan(after.length);
      j++;
    }
    expect(patch.after).toContain("# It will override the default agent for custom_task");
    expect(patch.after).toContain(`defaultServiceConfig: '{"loadBalancingConfig": [{"round_robin":{}}]}'`);
    expect(patch.after).toContain(`endpoint: "${endpoint}"`);
  });

  it("maps a new task type to the agent plugin in enabled_plugins.yaml and says so", () => {
    const plugins = parseDocument(dataOf(patch.after, "enabled_plugins.yaml")).toJS();
    expect(plugins.tasks["task-plugins"]["default-for-task-types"]).toContainEqual({
      new_task: "agent-service",
    });
    expect(
      patch.notes.some((n) => /mapped new_task to the agent-service plugin in enabled_plugins.yaml/.test(n)),
    ).toBe(true);
    expect(patch.notes.some((n) => /mapped bigquery_query_job_task/.test(n))).toBe(false);
  });

  it("shows the change as a unified diff of added lines only", () => {
    const lines = patch.diff.split("\n");
    expect(lines.filter((l) => l.startsWith("-") && !l.startsWith("---"))).toEqual([]);
    expect(lines).toContain("+          - new_task: bq-agent");
    expect(lines).toContain("+          - new_task: agent-service");
  });

  it("leaves the config unchanged when parsed and written without edits", () => {
    expect(parseDocument(seed).toString()).toBe(seed);
  });
});

describe("canary routing", () => {
  it("records the previous target and restores it on unroute, giving back the original routing", () => {
    const canary = routeTaskTypes(seed, {
      agentId: "custom-canary",
      endpoint: "dns:///custom-canary.flyte.svc.cluster.local:8000",
      taskTypes: ["custom_task"],
      canary: true,
    });
    expect(parsePropellerConfig(canary.after).agentForTaskTypes.custom_task).toBe("custom-canary");
    expect(canary.after).toMatch(
      /- custom_task: custom-canary # canary of custom_agent; previously custom_agent/,
    );
    const back = unrouteAgent(canary.after, { agentId: "custom-canary" });
    expect(back.after).toBe(seed);
    expect(back.notes).toContain("routed custom_task back to custom_agent");
  });

  it("sends a task type that had no route back to the default agent", () => {
    const canary = routeTaskTypes(seed, {
      agentId: "c",
      endpoint: "dns:///c:8000",
      taskTypes: ["new_task"],
      canary: true,
    });
    const back = unrouteAgent(canary.after, { agentId: "c" });
    const config = parsePropellerConfig(back.after);
    expect(config.agentForTaskTypes).toEqual({ custom_task: "custom_agent" });
    expect(config.agents.c).toBeUndefined();
    expect(back.notes).toContain("removed the route of new_task; it goes to the default agent again");
  });
});

describe("other config shapes", () => {
  it("patches a bare connector-service section in map form", () => {
    const text =
      "connector-service:\n  defaultConnector:\n    endpoint: dns:///c:8000 # keep me\n  connectorForTaskTypes:\n    a: x\n  connectors:\n    x: {endpoint: dns:///x:8000}\n  extra: 1\n";
    const patch = routeTaskTypes(text, { agentId: "mine", endpoint: "dns:///m:8000", taskTypes: ["b"] });
    expect(patch.config.flavor).toBe("connector-service");
    expect(patch.config.agentForTaskTypes).toEqual({ a: "x", b: "mine" });
    expect(patch.after).toContain("# keep me");
    expect(patch.after).toContain("extra: 1");
    expect(patch.configMap).toBeUndefined();
    expect(patch.notes.at(-1)).toMatch(/make sure enabled_plugins.yaml maps b to the agent plugin/);
  });

  it("creates agents and agentForTaskTypes when the section has only a default agent", () => {
    const patch = routeTaskTypes(
      "plugins:\n  agent-service:\n    defaultAgent:\n      endpoint: dns:///d:8000\n",
      {
        agentId: "mine",
        endpoint: "dns:///m:8000",
        taskTypes: ["t"],
      },
    );
    expect(patch.config.agentForTaskTypes).toEqual({ t: "mine" });
  });

  it("rejects an input without an agent section, and invalid YAML, in one sentence", () => {
    expect(() =>
      routeTaskTypes("foo: 1\n", { agentId: "a", endpoint: "e", taskTypes: ["t"], source: "cm.yaml" }),
    ).toThrow(/cm.yaml: no agent-service or connector-service section found/);
    expect(() =>
      routeTaskTypes("a: [\n", { agentId: "a", endpoint: "e", taskTypes: ["t"], source: "cm.yaml" }),
    ).toThrow(/cm.yaml: invalid YAML/);
  });
});

describe("unifiedDiff", () => {
  it("prints hunks with context and line numbers", () => {
    const d = unifiedDiff(
      "a\nb\nc\nd\ne\nf\ng\nh\n",
      "a\nb\nc\nD\ne\nf\ng\nh\n",
      { before: "x", after: "y" },
      1,
    );
    expect(d).toBe("--- x\n+++ y\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n");
  });

  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\n", "a\n")).toBe("");
  });
});
