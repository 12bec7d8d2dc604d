import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkLayers, importsOf, layers, pendingViolations, readSources } from "./support/layers.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const packages = {
  runtime: readSources(path.join(repo, "packages/runtime/src")),
  cli: readSources(path.join(repo, "src")),
} as const;

describe("the layering of both packages", () => {
  const violations = [...checkLayers(packages.runtime, "runtime"), ...checkLayers(packages.cli, "cli")];

  it("has no import that runs sideways or upward, besides the pending ones", () => {
    expect(packages.runtime.size).toBeGreaterThan(50);
    expect(packages.cli.size).toBeGreaterThan(30);
    const unexpected = violations.filter((v) => !pendingViolations.includes(v.edge));
    expect(unexpected.map((v) => `${v.edge} (${v.reason})`)).toEqual([]);
  });

  it("lists only pending violations that still exist, so the list shrinks as they are removed", () => {
    const found = new Set(violations.map((v) => v.edge));
    expect(pendingViolations.filter((edge) => !found.has(edge))).toEqual([]);
  });

  it("keeps the server from exiting the process or loading built-in agents", () => {
    const server = [...packages.runtime].filter(
      ([file]) => file.startsWith("server/") && !file.endsWith(".test.ts"),
    );
    expect(server.length).toBeGreaterThan(5);
    expect(server.filter(([, text]) => /\bprocess\.exit\s*\(/.test(text)).map(([f]) => f)).toEqual([]);
    const exits = (name: keyof typeof packages) =>
      [...packages[name]]
        .filter(([file, text]) => !file.endsWith(".test.ts") && /\bprocess\.exit\s*\(/.test(text))
        .map(([f]) => `${name}: ${f}`);
    // One place ends the process, for both commands (`flyte-agent` and `flyte-agent-serve`).
    expect([...exits("runtime"), ...exits("cli")]).toEqual(["runtime: cli/run-program.ts"]);
  });
});

describe("the layer check", () => {
  it("fails on a deliberately upward import", () => {
    const files = new Map([
      ["core/agent.ts", 'import { AgentServer } from "../server/server.js";\nexport const x = 1;\n'],
      ["core/lazy.ts", 'export const load = () => import("../cli/main.js");\n'],
      ["core/types-only.ts", 'export type { ServeOptions } from "../server/serve.js";\n'],
      ["server/ok.ts", 'import { AgentRegistry } from "../core/registry.js";\n'],
    ]);
    expect(checkLayers(files).map((v) => v.edge)).toEqual([
      "core/agent.ts -> server/server.ts",
      "core/lazy.ts -> cli/main.ts",
      "core/types-only.ts -> server/serve.ts",
    ]);
  });

  it("fails on the runtime importing the CLI package, and on the CLI reaching into packages/", () => {
    const runtime = new Map([
      ["server/a.ts", 'import { executeTask } from "flyte-agent/executor";\n'],
      ["cli/b.ts", 'const x = () => import("../../../../src/executor/index.js");\n'],
      ["server/ok.ts", 'import { z } from "zod";\nimport { isAgent } from "../core/agent.js";\n'],
    ]);
    expect(checkLayers(runtime, "runtime").map((v) => `${v.edge}: ${v.reason}`)).toEqual([
      "server/a.ts -> flyte-agent/executor: the runtime never imports the CLI package",
      "cli/b.ts -> ../../../../src/executor/index.js: the runtime never imports the CLI package",
    ]);
    const cli = new Map([
      ["executor/a.ts", 'import { AgentRegistry } from "../../packages/runtime/src/core/registry.js";\n'],
      ["executor/b.ts", 'import { AgentServer } from "@flyte-agent/runtime/internal/server/server.js";\n'],
      ["executor/ok.ts", 'import { AgentRegistry } from "@flyte-agent/runtime/internal/core/registry.js";\n'],
    ]);
    expect(checkLayers(cli, "cli").map((v) => v.edge)).toEqual([
      "executor/a.ts -> ../../packages/runtime/src/core/registry.js",
      "executor/b.ts -> server/server.ts",
    ]);
  });

  it("lets a layer reach only the public entry it was given", () => {
    const files = new Map([
      ["testing/a.ts", 'import { AgentServer } from "../server/index.js";\n'],
      ["testing/b.ts", 'import { decodeInputs } from "../server/literals.js";\n'],
    ]);
    expect(checkLayers(files).map((v) => v.edge)).toEqual(["testing/b.ts -> server/literals.ts"]);
  });

  it("fails on a folder the layer table does not know", () => {
    const files = new Map([["plugins/x.ts", "export const x = 1;\n"]]);
    expect(checkLayers(files)[0]?.reason).toMatch(/not in the layer table/);
    expect(layers.plugins).toBeUndefined();
  });
});

describe("the examples", () => {
  it("use the public API only: no import reaches into the repository's src/ or test/", () => {
    const examples = path.join(repo, "examples");
    const reaching: string[] = [];
    for (const [file, text] of readSources(examples)) {
      if (file.includes("node_modules/")) continue;
      for (const spec of importsOf(text)) {
        const target = path.resolve(path.dirname(path.join(examples, file)), spec);
        if (!target.startsWith(examples + path.sep)) reaching.push(`examples/${file} -> ${spec}`);
      }
    }
    expect(reaching).toEqual([]);
  });
});
