import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createFlyte2ConnectorConfig } from "../../src/deploy/flyte2-config.js";
import { planCanary, planDeploy } from "../../src/deploy/plan.js";
import { parsePropellerConfig } from "../../packages/runtime/src/propeller/config.js";

const endpoint = "dns:///bq-agent.flyte.svc.cluster.local:8000";
const seed = readFileSync(new URL("./fixtures/propeller-configmap.yaml", import.meta.url), "utf8");

describe("createFlyte2ConnectorConfig", () => {
  const made = createFlyte2ConnectorConfig({
    agentId: "bq-agent",
    endpoint,
    taskTypes: ["bigquery_query_job_task", "custom_task"],
  });

  it("writes plugins.connector-service (connectors + connectorForTaskTypes) and default-for-task-types, as flyteorg/flyte main's connector/config.go:55,70,76 reads them", () => {
    const file = parse(made.configMap.data[made.fileName]!) as Record<string, any>;
    expect(file.plugins["connector-service"]).toEqual({
      connectors: { "bq-agent": { endpoint, insecure: true, defaultTimeout: "10s" } },
      connectorForTaskTypes: { bigquery_query_job_task: "bq-agent", custom_task: "bq-agent" },
    });
    // A map, so it merges with the flyte-binary chart's own default-for-task-types map (001-plugins.yaml).
    expect(file.tasks["task-plugins"]["default-for-task-types"]).toEqual({
      bigquery_query_job_task: "connector-service",
      custom_task: "connector-service",
    });
  });

  it("resolves, through the loader run --config uses, to this endpoint for every task type", () => {
    const config = parsePropellerConfig(made.text);
    expect(config.flavor).toBe("connector-service");
    expect(config.agents["bq-agent"]).toMatchObject({ endpoint, insecure: true, defaultTimeoutMs: 10_000 });
    expect(config.agentForTaskTypes).toEqual({
      bigquery_query_job_task: "bq-agent",
      custom_task: "bq-agent",
    });
    expect([...config.pluginTaskTypes].sort()).toEqual(["bigquery_query_job_task", "custom_task"]);
    expect(config.warnings).toEqual([]);
  });

  it("is a ConfigMap in the Flyte 2 namespace, with a values file that projects it into the executor's config", () => {
    expect(made.configMap.metadata).toMatchObject({ name: "bq-agent-connector-config", namespace: "flyte" });
    expect(made.fileName).toBe("200-connector-bq-agent.yaml");
    expect(parse(made.helmValues)).toEqual({
      configuration: { extraInlineConfigMapRefs: ["bq-agent-connector-config"] },
    });
  });

  it("keeps the case of upper-case task types with the list form, and says it does not merge with maps", () => {
    const upper = createFlyte2ConnectorConfig({ agentId: "x", endpoint, taskTypes: ["MyTask"] });
    const file = parse(upper.text) as Record<string, any>;
    expect(file.plugins["connector-service"].connectorForTaskTypes).toEqual([{ MyTask: "x" }]);
    expect(upper.config.agentForTaskTypes).toEqual({ MyTask: "x" });
    expect(upper.notes.join("\n")).toMatch(/MyTask has upper-case letters/);
  });

  it("writes project, domain and a round_robin service config when asked", () => {
    const scoped = createFlyte2ConnectorConfig({
      agentId: "x",
      endpoint,
      taskTypes: ["t"],
      project: "flytesnacks",
      domain: "development",
      defaultServiceConfig: '{"loadBalancingConfig": [{"round_robin":{}}]}',
    });
    const file = parse(scoped.text) as Record<string, any>;
    expect(file.plugins["connector-service"].connectors.x).toMatchObject({
      project: "flytesnacks",
      domain: "development",
      defaultServiceConfig: '{"loadBalancingConfig": [{"round_robin":{}}]}',
    });
  });

  it("refuses what the executor would drop or the API server would refuse, in one sentence", () => {
    expect(() => createFlyte2ConnectorConfig({ agentId: "Bq", endpoint, taskTypes: ["t"] })).toThrow(
      /connector id "Bq" must be lower-case/,
    );
    expect(() => createFlyte2ConnectorConfig({ agentId: "bq", endpoint, taskTypes: [] })).toThrow(
      /no task types/,
    );
    expect(() =>
      createFlyte2ConnectorConfig({ agentId: "bq", endpoint, taskTypes: ["t"], configMapName: "Bad_Name" }),
    ).toThrow(/ConfigMap name "Bad_Name" is not a valid DNS-1123 subdomain/);
    expect(() => createFlyte2ConnectorConfig({ agentId: "bq", endpoint: "", taskTypes: ["t"] })).toThrow(
      /endpoint must not be empty/,
    );
  });
});

describe("planDeploy --flyte", () => {
  const base = { name: "bq-agent", image: "bq:1", taskTypes: ["custom_task"], propellerConfig: seed };

  it("1 (the default) patches FlytePropeller's ConfigMap only", () => {
    const plan = planDeploy(base);
    expect(plan.routing).toBeDefined();
    expect(plan.flyte2).toBeUndefined();
  });

  it("both patches FlytePropeller's ConfigMap and adds the Flyte 2 ConfigMap with its apply step", () => {
    const plan = planDeploy({ ...base, flyte: "both", headless: true });
    expect(plan.routing?.config.agentForTaskTypes.custom_task).toBe("bq-agent");
    expect(plan.flyte2?.config.agentForTaskTypes).toEqual({ custom_task: "bq-agent" });
    expect(plan.flyte2?.config.agents["bq-agent"]?.defaultServiceConfig).toMatch(/round_robin/);
    expect(plan.manifests).toContain(plan.flyte2?.configMap);
    expect(plan.steps.map((s) => s.description)).toContain(
      "apply ConfigMap flyte/bq-agent-connector-config (Flyte 2 connector routing)",
    );
  });

  it("2 leaves FlytePropeller's config alone even when given", () => {
    const plan = planDeploy({ ...base, flyte: "2", flyte2: { namespace: "flyte2", configMapName: "cc" } });
    expect(plan.routing).toBeUndefined();
    expect(plan.flyte2?.configMap.metadata).toMatchObject({ name: "cc", namespace: "flyte2" });
    expect(plan.notes).toContain("--flyte 2: FlytePropeller's routing is not changed");
  });

  it("2 without task types writes no connector config and says why", () => {
    const plan = planDeploy({ name: "bq-agent", image: "bq:1", flyte: "2" });
    expect(plan.flyte2).toBeUndefined();
    expect(plan.notes.join("\n")).toMatch(/no Flyte 2 connector config is written/);
  });

  it("a canary is FlytePropeller-only", () => {
    expect(() => planCanary({ ...base, flyte: "both" })).toThrow(/canary is routed through FlytePropeller/);
  });
});
