import { describe, expect, it } from "vitest";
import { Agent } from "../gen/flyteidl/admin/agent.js";
import { endpointConfig } from "./config.js";
import { buildRegistry, lookupRoute } from "./registry.js";

// flyteplugins/go/tasks/plugins/webapi/agent/client.go:95-170 and plugin.go:401-409 at v1.16.8.
const config = endpointConfig("localhost:8000");
const deployment = config.defaultAgent!;
const agent = (name: string, isSync: boolean, types: string[], categories: [string, number][]) =>
  Agent.fromPartial({
    name,
    isSync,
    supportedTaskTypes: types,
    supportedTaskCategories: categories.map(([n, version]) => ({ name: n, version })),
  });

describe("buildRegistry", () => {
  it("keeps one version per name, the last listed, and says which are lost", () => {
    const r = buildRegistry(config, [
      { deployment, agents: [agent("a", true, [], [["x", 0]]), agent("b", false, [], [["x", 1]])] },
    ]);
    expect(r.routes.get("x")).toMatchObject({ version: 1, route: { isSync: false } });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]!.message).toMatch(/tasks of x_v0 go to the default agent as async tasks/);
    // x v0 now goes to the default deployment, async.
    expect(lookupRoute(r, config, { name: "x", version: 0 })).toMatchObject({
      kind: "route",
      route: { via: "default", isSync: false },
    });
  });

  it("does not count the deprecated name a server lists beside the agent's own category", () => {
    const r = buildRegistry(config, [{ deployment, agents: [agent("a", true, ["x"], [["x", 1]])] }]);
    expect(r.warnings).toEqual([]);
    expect(lookupRoute(r, config, { name: "x", version: 1 })).toMatchObject({
      kind: "route",
      route: { via: "discovery", isSync: true },
    });
  });

  it("routes supportedTaskTypes not yet routed to the default deployment, and nothing else into the plugin", () => {
    const r = buildRegistry(config, []);
    expect(lookupRoute(r, config, { name: "task_type_1", version: 0 })).toMatchObject({
      route: { via: "supportedTaskTypes" },
    });
    expect(lookupRoute(r, config, { name: "other", version: 0 })).toMatchObject({ kind: "not-agent-plugin" });
    expect(lookupRoute(r, config, { name: "other", version: 0 }, ["other"])).toMatchObject({
      route: { via: "default" },
    });
  });
});
