import { describe, expect, it } from "vitest";
import { deadlineFor, parseGoDuration, parsePropellerConfig } from "./propeller-config.js";

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
              GetTask: 5s
            defaultTimeout: 10s
        agentForTaskTypes:
          - custom_task: custom_agent
`;

describe("parsePropellerConfig", () => {
  it("reads the agent-service section out of a whole ConfigMap, list-form routing included", () => {
    const c = parsePropellerConfig(seed);
    expect(c.flavor).toBe("agent-service");
    expect(c.defaultAgent?.endpoint).toBe("dns:///flyteagent.flyte.svc.cluster.local:8000");
    expect(c.agentForTaskTypes).toEqual({ custom_task: "custom_agent" });
    expect(deadlineFor(c.defaultAgent!, "GetTask")).toBe(5000);
    expect(deadlineFor(c.defaultAgent!, "CreateTask")).toBe(10_000);
    expect(c.agents.custom_agent?.insecure).toBe(false);
  });

  it("gives defaults only to the default deployment", () => {
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
    expect(c.resyncIntervalMs).toBe(30_000);
    expect(c.readRateLimiter).toEqual({ qps: 10, burst: 100 });
  });

  it("reads connector-service with its own key names and 10s default timeout", () => {
    const c = parsePropellerConfig(`
plugins:
  connector-service:
    defaultConnector: { endpoint: "localhost:8000" }
    connectors: { c1: { endpoint: "localhost:9000" } }
    connectorForTaskTypes: { t: c1 }
`);
    expect(c.flavor).toBe("connector-service");
    expect(c.defaultAgent?.defaultTimeoutMs).toBe(10_000);
    expect(c.agentForTaskTypes).toEqual({ t: "c1" });
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
    expect(() =>
      parsePropellerConfig(`plugins: { agent-service: { agentForTaskTypes: { t: nowhere } } }`),
    ).toThrow(/agentForTaskTypes\.t: routes to "nowhere"/);
    expect(() => parsePropellerConfig(`foo: bar`)).toThrow(/no agent-service or connector-service section/);
  });
});

describe("parseGoDuration", () => {
  it("reads Go durations", () => {
    expect(parseGoDuration("1m30s")).toBe(90_000);
    expect(parseGoDuration("250ms")).toBe(250);
    expect(parseGoDuration("0")).toBe(0);
    expect(() => parseGoDuration("5")).toThrow();
  });
});
