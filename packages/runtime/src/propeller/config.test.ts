import { describe, expect, it } from "vitest";
import { deadlineFor, parsePropellerConfig } from "./config.js";

// The shape Flyte's own docs and the flyte-binary chart show: map-form timeouts, list-form routes.
const seed = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: flyte-propeller-config
data:
  agent_service.yaml: |
    plugins:
      agent-service:
        defaultAgent:
          endpoint: "dns:///flyteagent.flyte.svc.cluster.local:8000"
          insecure: true
          timeouts:
            GetTask: 5s
          defaultTimeout: 10s
        agents:
          custom_agent:
            endpoint: "dns:///custom-flyteagent.flyte.svc.cluster.local:8000"
            insecure: false
            defaultServiceConfig: '{"loadBalancingConfig": [{"round_robin":{}}]}'
            timeouts:
              - GetTask: 5s
            defaultTimeout: 10s
        agentForTaskTypes:
          - custom_task: custom_agent
  storage.yaml: |
    storage:
      limits:
        maxDownloadMBs: 10
  enabled_plugins.yaml: |
    tasks:
      task-plugins:
        default-for-task-types:
          - custom_task: agent-service
          - container: container
`;

describe("parsePropellerConfig reads the config as FlytePropeller's viper loader does", () => {
  it("loses a map-form per-op timeout (viper lowercases the key) and says so, naming the key", () => {
    // flytestdlib/config/viper/viper.go:268-296: only keys inside lists keep their case.
    const c = parsePropellerConfig(seed);
    expect(c.flavor).toBe("agent-service");
    expect(c.defaultAgent?.endpoint).toBe("dns:///flyteagent.flyte.svc.cluster.local:8000");
    expect(c.defaultAgent?.timeouts).toEqual({ gettask: 5000 });
    expect(deadlineFor(c.defaultAgent!, "GetTask")).toBe(10_000);
    const w = c.warnings.find((x) => x.key.endsWith("defaultAgent.timeouts.GetTask"));
    expect(w?.key).toBe("data.agent_service.yaml.plugins.agent-service.defaultAgent.timeouts.GetTask");
    expect(w?.message).toContain('arrives as "gettask"');
    expect(w?.message).toContain("its defaultTimeout (10s)");
    expect(w?.message).toContain("timeouts:\n    - GetTask: 5s");
  });

  it("keeps the case of list-form keys (timeouts and routes)", () => {
    const c = parsePropellerConfig(seed);
    expect(deadlineFor(c.agents.custom_agent!, "GetTask")).toBe(5000);
    expect(deadlineFor(c.agents.custom_agent!, "CreateTask")).toBe(10_000);
    expect(c.agents.custom_agent?.insecure).toBe(false);
    expect(c.agentForTaskTypes).toEqual({ custom_task: "custom_agent" });
    expect(c.warnings.filter((x) => x.key.includes("custom_agent"))).toEqual([]);
  });

  it("reads storage.limits.maxDownloadMBs and default-for-task-types from the same ConfigMap", () => {
    const c = parsePropellerConfig(seed);
    expect(c.maxDownloadMBs).toBe(10);
    expect(c.pluginTaskTypes).toEqual(["custom_task"]);
  });

  it("drops a route to a mixed-case deployment id (the id is lowercased, the value is not), with a warning", () => {
    // agent/client.go:154-159: a route to an unknown deployment is skipped.
    const c = parsePropellerConfig(`
plugins:
  agent-service:
    defaultAgent: { endpoint: "localhost:8000" }
    agents: { BigQuery: { endpoint: "localhost:9000" } }
    agentForTaskTypes: [ { bq: BigQuery } ]
`);
    expect(Object.keys(c.agents)).toEqual(["bigquery"]);
    expect(c.agentForTaskTypes).toEqual({});
    expect(c.warnings.map((w) => w.key)).toEqual([
      "plugins.agent-service.agents.BigQuery",
      "plugins.agent-service.agentForTaskTypes.bq",
    ]);
    expect(c.warnings[1]!.message).toMatch(/ignores this route and bq goes to the default agent/);
  });

  it("ignores a route to an unknown deployment with a warning instead of refusing the config", () => {
    const c = parsePropellerConfig(`plugins: { agent-service: { agentForTaskTypes: { t: nowhere } } }`);
    expect(c.agentForTaskTypes).toEqual({});
    expect(c.warnings[0]).toMatchObject({ key: "plugins.agent-service.agentForTaskTypes.t" });
    expect(c.warnings[0]!.message).toContain('routes to "nowhere", which is not a deployment');
  });

  it("gives defaults only to the default deployment: agents entries have no deadline at all", () => {
    // agent/config.go:42-47 (defaults), agent/client.go:85-92 (no deadline when 0).
    const c = parsePropellerConfig(`
plugins:
  agent-service:
    defaultAgent: { endpoint: "localhost:8000" }
    agents: { other: { endpoint: "localhost:9000" } }
    agentForTaskTypes: { t: other }
`);
    expect(c.defaultAgent).toMatchObject({ insecure: true, defaultTimeoutMs: 3000 });
    expect(c.agents.other).toMatchObject({ insecure: false, defaultTimeoutMs: 0 });
    expect(deadlineFor(c.agents.other!, "GetTask")).toBe(0);
    expect(deadlineFor(c.agents.other!, "ListAgents")).toBe(0);
    expect(c.resyncIntervalMs).toBe(30_000);
    expect(c.readRateLimiter).toEqual({ qps: 10, burst: 100 });
    expect(c.maxDownloadMBs).toBe(2);
    expect(c.supportedTaskTypes).toEqual(["task_type_1", "task_type_2"]);
  });

  it("reads connector-service with its own keys, a 10 s default and ListConnectors as ListAgents' key", () => {
    // connector/config.go:45, connector/client.go:110.
    const c = parsePropellerConfig(`
plugins:
  connector-service:
    defaultConnector:
      endpoint: "localhost:8000"
      timeouts: [ { ListConnectors: 1s }, { ListAgents: 2s } ]
    connectors: { c1: { endpoint: "localhost:9000" } }
    connectorForTaskTypes: { t: c1 }
`);
    expect(c.flavor).toBe("connector-service");
    expect(c.defaultAgent?.defaultTimeoutMs).toBe(10_000);
    expect(deadlineFor(c.defaultAgent!, "ListAgents")).toBe(1000);
    expect(deadlineFor(c.defaultAgent!, "GetTask")).toBe(10_000);
    expect(c.agentForTaskTypes).toEqual({ t: "c1" });
    expect(c.supportedTaskTypes).toEqual(["task_type_3", "task_type_4"]);
    expect(c.warnings.map((w) => w.key)).toEqual([
      "plugins.connector-service.defaultConnector.timeouts.ListAgents",
    ]);
  });

  it("accepts a float qps and checks the validation ranges", () => {
    const c = parsePropellerConfig(
      `plugins: { agent-service: { webApi: { readRateLimiter: { qps: 2.5, burst: 5 } } } }`,
    );
    expect(c.readRateLimiter).toEqual({ qps: 2.5, burst: 5 });
    expect(() =>
      parsePropellerConfig(`plugins: { agent-service: { webApi: { readRateLimiter: { qps: 0.5 } } } }`),
    ).toThrow(/readRateLimiter\.qps/);
    expect(() =>
      parsePropellerConfig(`plugins: { agent-service: { webApi: { caching: { resyncInterval: 1s } } } }`),
    ).toThrow(/resyncInterval: must be between 5s and 1h0m0s/);
    expect(() =>
      parsePropellerConfig(`plugins: { agent-service: { webApi: { readRateLimiter: { burst: 4 } } } }`),
    ).toThrow(/burst/);
  });

  it("names the offending key", () => {
    expect(() =>
      parsePropellerConfig(`plugins: { agent-service: { webApi: { caching: { size: 3 } } } }`),
    ).toThrow(/plugins\.agent-service\.webApi\.caching\.size/);
    expect(() =>
      parsePropellerConfig(
        `plugins: { agent-service: { defaultAgent: { endpoint: "x", defaultTimeout: "5 parsecs" } } }`,
      ),
    ).toThrow(/plugins\.agent-service\.defaultAgent\.defaultTimeout: invalid duration/);
    expect(() => parsePropellerConfig(`foo: bar`)).toThrow(/no agent-service or connector-service section/);
  });
});
