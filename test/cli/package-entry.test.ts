import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

// Agent modules import the package root, so what the root loads is paid by every agent server at
// start-up and in idle memory (bench/README.md): the deploy toolkit has its own entry point.
describe("package entry points", () => {
  it("keeps the deploy toolkit out of the package root and serves it from flyte-agent/deploy", async () => {
    const script = `
      const root = await import("flyte-agent");
      const deploy = await import("flyte-agent/deploy");
      console.log(JSON.stringify({
        rootHasDeploy: "createManifests" in root,
        rootHasAgents: typeof root.AsyncAgentBase === "function",
        deployHasManifests: typeof deploy.createManifests === "function",
      }));`;
    const r = await execa("node", ["--input-type=module", "-e", script], { cwd: root });
    expect(JSON.parse(r.stdout)).toEqual({
      rootHasDeploy: false,
      rootHasAgents: true,
      deployHasManifests: true,
    });
  });
});
