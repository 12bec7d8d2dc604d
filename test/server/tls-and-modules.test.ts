import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListAgentsResponse } from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { AgentRegistry } from "../../packages/runtime/src/index.js";
import { loadAgentModules, type RunningAgentServer, serve } from "../../packages/runtime/src/server/index.js";
import { EchoAgent } from "./fixtures/agents.js";
import { checkConformance } from "../../src/conformance/index.js";
import { clients, failure, unary } from "./helpers.js";

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const base = {
  host: "127.0.0.1",
  // Quiet test output: a test that reads the log passes its own logger.
  logLevel: "silent",
  port: 0,
  prometheusPort: false,
  discover: false,
  handleSignals: false,
  banner: false,
} as const;

function echoRegistry(): AgentRegistry {
  const r = new AgentRegistry();
  r.register(new EchoAgent());
  return r;
}

describe.skipIf(!hasOpenssl)("serve() with TLS (needs openssl to make test certificates)", () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "flyte-agent-tls-"));
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=test-ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    writeFileSync(file("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    for (const who of ["server", "client"]) {
      openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        `/CN=${who}`,
        "-keyout",
        `${who}.key`,
        "-out",
        `${who}.csr`,
      );
      openssl(
        "x509",
        "-req",
        "-in",
        `${who}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        `${who}.pem`,
        ...(who === "server" ? ["-extfile", "server.ext"] : []),
      );
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // TLS clients dial the server by name, as the certificate also names it: grpc-js sends the target's
  // host as the TLS server name (SNI), and for an IP address Node warns (DEP0123) that RFC 6066
  // forbids that (grpc/grpc-node#1919), whatever the caller passes.
  const byName = (running: RunningAgentServer) => `localhost:${running.port}`;

  it("serves TLS to a client that trusts the CA and refuses plaintext", async () => {
    const running = await serve({
      ...base,
      registry: echoRegistry(),
      tls: { cert: file("server.pem"), key: file("server.key") },
    });
    const tls = clients(byName(running), credentials.createSsl(readFileSync(file("ca.pem"))));
    const plain = clients(running.address);
    try {
      const res: ListAgentsResponse = await unary(tls.meta.listAgents.bind(tls.meta), {});
      expect(res.agents.map((a) => a.name)).toEqual(["EchoAgent"]);
      const err = await failure(unary(plain.meta.listAgents.bind(plain.meta), {}, 2_000));
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      tls.close();
      plain.close();
      await running.stop();
    }
  });

  it("is checked by conformance over mutual TLS with the CA and client certificate files", async () => {
    const running = await serve({
      ...base,
      registry: echoRegistry(),
      tls: { cert: file("server.pem"), key: file("server.key"), clientCa: file("ca.pem") },
    });
    try {
      const report = await checkConformance({
        endpoint: byName(running),
        tls: { caFile: file("ca.pem"), certFile: file("client.pem"), keyFile: file("client.key") },
      });
      expect(report.checks.filter((c) => c.status !== "pass")).toEqual([]);
      const noCert = await checkConformance({ endpoint: byName(running), tls: { caFile: file("ca.pem") } });
      // Neither protocol's list call gets through the handshake: the server counts as unreachable.
      expect(noCert.checks.map((c) => [c.id, c.status])).toEqual([
        ["health", "fail"],
        ["protocols", "fail"],
      ]);
    } finally {
      await running.stop();
    }
  });

  it("requires a client certificate signed by the client CA with mutual TLS", async () => {
    const running = await serve({
      ...base,
      registry: echoRegistry(),
      tls: { cert: file("server.pem"), key: file("server.key"), clientCa: file("ca.pem") },
    });
    const ca = readFileSync(file("ca.pem"));
    const withCert = clients(
      byName(running),
      credentials.createSsl(ca, readFileSync(file("client.key")), readFileSync(file("client.pem"))),
    );
    const withoutCert = clients(byName(running), credentials.createSsl(ca));
    try {
      const res: ListAgentsResponse = await unary(withCert.meta.listAgents.bind(withCert.meta), {});
      expect(res.agents).toHaveLength(1);
      const err = await failure(unary(withoutCert.meta.listAgents.bind(withoutCert.meta), {}, 2_000));
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      withCert.close();
      withoutCert.close();
      await running.stop();
    }
  });

  it("says which TLS file it cannot read", async () => {
    await expect(
      serve({
        ...base,
        registry: echoRegistry(),
        tls: { cert: file("missing.pem"), key: file("server.key") },
      }),
    ).rejects.toThrow(`cannot read the TLS certificate ${file("missing.pem")}: ENOENT`);
  });
});

// A module that needs no library: an agent is recognised by its Symbol.for brand.
const agentModule = (name: string, taskType: string) => `
const brand = Symbol.for("flyte-agent.agent");
export class ${name} {
  constructor() {
    this[brand] = "sync";
    this.isSync = true;
    this.name = "${name}";
    this.taskCategory = { name: "${taskType}", version: 0 };
    this.outputTypes = undefined;
  }
  async do() { return { phase: 3 }; }
}
`;

describe("loadAgentModules()", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "flyte-agent-modules-"));
    writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({
        name: "app",
        dependencies: { "@acme/flyte-plugin": "1.0.0", unrelated: "1.0.0" },
        flyteAgent: { modules: ["./own.mjs"] },
      }),
    );
    writeFileSync(path.join(dir, "own.mjs"), agentModule("OwnAgent", "own"));
    writeFileSync(path.join(dir, "extra.mjs"), agentModule("ExtraAgent", "extra"));
    const pkg = path.join(dir, "node_modules", "@acme", "flyte-plugin");
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      path.join(pkg, "package.json"),
      JSON.stringify({
        name: "@acme/flyte-plugin",
        type: "module",
        exports: { ".": { import: "./index.js" } },
        flyteAgent: { modules: ["./index.js"] },
      }),
    );
    writeFileSync(path.join(pkg, "index.js"), agentModule("PluginAgent", "plugin"));
    // Installed (transitively, or as a workspace link) but not a dependency of the project.
    const stray = path.join(dir, "node_modules", "stray-plugin");
    mkdirSync(stray, { recursive: true });
    writeFileSync(
      path.join(stray, "package.json"),
      JSON.stringify({ name: "stray-plugin", type: "module", flyteAgent: { modules: ["./index.js"] } }),
    );
    writeFileSync(path.join(stray, "index.js"), agentModule("StrayAgent", "stray"));
    mkdirSync(path.join(dir, "node_modules", "unrelated"), { recursive: true });
    writeFileSync(
      path.join(dir, "node_modules", "unrelated", "package.json"),
      JSON.stringify({ name: "unrelated" }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("imports --modules files and the modules packages declare under flyteAgent.modules", async () => {
    const registry = new AgentRegistry();
    const loaded = await loadAgentModules({ cwd: dir, modules: ["./extra.mjs"], registry });
    expect(loaded.map((m) => [m.specifier, m.from])).toEqual([
      ["./own.mjs", "package app"],
      ["./index.js", "package @acme/flyte-plugin"],
      ["./extra.mjs", "--modules"],
    ]);
    expect(
      registry
        .listAgents()
        .map((a) => a.name)
        .sort(),
    ).toEqual(["ExtraAgent", "OwnAgent", "PluginAgent"]);
  });

  it("imports a package by name and skips discovery when asked", async () => {
    const registry = new AgentRegistry();
    await loadAgentModules({ cwd: dir, modules: ["@acme/flyte-plugin"], discover: false, registry });
    expect(registry.listAgents().map((a) => a.name)).toEqual(["PluginAgent"]);
  });

  it("names a module that cannot be found", async () => {
    await expect(
      loadAgentModules({ cwd: dir, modules: ["./nope.js"], discover: false, registry: new AgentRegistry() }),
    ).rejects.toThrow(`agent module ./nope.js not found (looked at ${path.join(dir, "nope.js")})`);
    await expect(
      loadAgentModules({
        cwd: dir,
        modules: ["no-such-package"],
        discover: false,
        registry: new AgentRegistry(),
      }),
    ).rejects.toThrow("agent module no-such-package not found");
  });
});
