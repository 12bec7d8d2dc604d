import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkLayers, importsOf, layers, pendingViolations, readSources } from "./support/layers.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(repo, "src");

describe("the layering of src/", () => {
  const sources = readSources(src);
  const violations = checkLayers(sources);

  it("has no import that runs sideways or upward, besides the pending ones", () => {
    const unexpected = violations.filter((v) => !pendingViolations.includes(v.edge));
    expect(unexpected.map((v) => `${v.edge} (${v.reason})`)).toEqual([]);
  });

  it("lists only pending violations that still exist, so the list shrinks as they are removed", () => {
    const found = new Set(violations.map((v) => v.edge));
    expect(pendingViolations.filter((edge) => !found.has(edge))).toEqual([]);
  });

  it("keeps the server from exiting the process or loading built-in agents", () => {
    const server = [...sources].filter(([file]) => file.startsWith("server/") && !file.endsWith(".test.ts"));
    expect(server.length).toBeGreaterThan(5);
    expect(server.filter(([, text]) => /\bprocess\.exit\s*\(/.test(text)).map(([f]) => f)).toEqual([]);
    const exits = [...sources].filter(
      ([file, text]) => !file.endsWith(".test.ts") && /\bprocess\.exit\s*\(/.test(text),
    );
    expect(exits.map(([f]) => f)).toEqual(["cli/main.ts"]);
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
