import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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

  it("loads no serving code from the runtime's root: no gRPC, logger, metrics, msgpack or service messages", async () => {
    // The serving modules come with @flyte-agent/runtime/server, msgpack with the first msgpack value.
    const loaded = await modulesLoaded([
      "--input-type=module",
      "-e",
      'await import("@flyte-agent/runtime");',
    ]);
    expect(loaded.some((l) => l.includes("/core/agent.js"))).toBe(true);
    const serving = loaded.filter((l) =>
      /node_modules\/(@grpc|pino|prom-client|@msgpack)\/|\/gen\/flyteidl\/admin\/|\/server\//.test(l),
    );
    expect(serving).toEqual([]);
  });

  it("serves without loading Flyte 2's messages: they load at the first Flyte 2 call", async () => {
    // --timeout stops the server as soon as it is listening, before any call.
    const serve = join(root, "packages/runtime/bin/flyte-agent-serve.js");
    const flags = ["--host", "127.0.0.1", "--port", "0", "--no-prometheus", "--timeout", "1ms"];
    const loaded = await modulesLoaded([serve, "agent", "-m", "bench/agents.mjs", ...flags]);
    expect(loaded.some((l) => l.includes("/server/services/async-agent-service.js"))).toBe(true);
    expect(loaded.filter((l) => /\/gen\/v2\/|flyte2-services/.test(l))).toEqual([]);
  });
});

/** The modules a `node` run with `args` reads, as a load hook lists them. */
async function modulesLoaded(args: string[]): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "loaded-modules-"));
  try {
    const hook = join(dir, "hook.mjs");
    await writeFile(
      hook,
      "export async function load(url, context, next) { process.stderr.write(`loaded ${url}\\n`); return next(url, context); }",
    );
    const register = `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hook).href)});`;
    const r = await execa(
      "node",
      ["--import", `data:text/javascript,${encodeURIComponent(register)}`, ...args],
      {
        cwd: root,
      },
    );
    return r.stderr.split("\n").filter((l) => l.startsWith("loaded "));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
