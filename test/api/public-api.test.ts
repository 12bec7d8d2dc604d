// The package root is the API an agent author reads: its export list changes only on purpose (review
// the snapshot, then `npx vitest run test/api -u`), and every export is documented.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function program(entries: readonly string[]): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!config) throw new Error("cannot read tsconfig.json");
  return ts.createProgram(
    entries.map((e) => path.join(root, e)),
    { ...config.options, noEmit: true },
  );
}

interface Export {
  readonly name: string;
  readonly kind: string;
  readonly documented: boolean;
}

/** The exports of `entry`, each with its kind (as a reader sees it) and whether it has TSDoc. */
function exportsOf(p: ts.Program, entry: string): Export[] {
  const checker = p.getTypeChecker();
  const file = p.getSourceFile(path.join(root, entry));
  const moduleSymbol = file && checker.getSymbolAtLocation(file);
  if (!moduleSymbol) throw new Error(`no module symbol for ${entry}`);
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((exported) => {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const f = symbol.flags;
      const kind =
        f & ts.SymbolFlags.Class
          ? "class"
          : f & ts.SymbolFlags.Function
            ? "function"
            : f & ts.SymbolFlags.Variable
              ? f & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface)
                ? "const+type"
                : "const"
              : f & ts.SymbolFlags.Interface
                ? "interface"
                : f & ts.SymbolFlags.TypeAlias
                  ? "type"
                  : "other";
      const documented = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== "";
      return { name: exported.name, kind, documented };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe("the package root", () => {
  const p = program([
    "packages/runtime/src/index.ts",
    "packages/runtime/src/flyteidl.ts",
    "src/index.ts",
    "src/flyteidl.ts",
  ]);
  const rootExports = exportsOf(p, "packages/runtime/src/index.ts");
  const listing = (exports: readonly Export[]) => exports.map((e) => `${e.kind} ${e.name}`).join("\n") + "\n";

  it("exports the reviewed list of names (@flyte-agent/runtime)", async () => {
    await expect(listing(rootExports)).toMatchFileSnapshot("./runtime-root-exports.txt");
  });

  it("is flyte-agent's root too: the CLI package re-exports the runtime's root and nothing else", async () => {
    const cliExports = exportsOf(p, "src/index.ts");
    await expect(listing(cliExports)).toMatchFileSnapshot("./root-exports.txt");
    expect(cliExports).toEqual(rootExports);
    expect(exportsOf(p, "src/flyteidl.ts")).toEqual(exportsOf(p, "packages/runtime/src/flyteidl.ts"));
  });

  it("keeps servers, executors, scaffolding and command-line parsers out of the root", () => {
    const names = new Set(rootExports.map((e) => e.name));
    for (const name of [
      "AgentServer",
      "serve",
      "executeTask",
      "checkConformance",
      "createProject",
      "parseInputString",
      "parseBuiltinAgentNames",
      "createManifests",
    ]) {
      expect(names.has(name), name).toBe(false);
    }
  });

  it("documents every export with TSDoc", () => {
    expect(rootExports.filter((e) => !e.documented).map((e) => e.name)).toEqual([]);
  });

  it("offers the protocol messages of its public signatures as types from flyte-agent/flyteidl", () => {
    const messages = exportsOf(p, "packages/runtime/src/flyteidl.ts");
    const names = messages.map((e) => e.name);
    for (const name of ["TaskTemplate", "LiteralMap", "Literal", "TaskLog", "TaskExecutionMetadata"]) {
      expect(names).toContain(name);
    }
  });

  it("loads no code through flyte-agent/flyteidl: its exports are types only", async () => {
    expect(Object.keys(await import("flyte-agent/flyteidl"))).toEqual([]);
  });
});

describe("the packages' entry points", () => {
  it("resolve by name from the built package: server, executor, conformance, testing, deploy, flyteidl", async () => {
    const script = `
      const load = async (s) => Object.keys(await import(s));
      console.log(JSON.stringify({
        server: (await load("flyte-agent/server")).includes("serve"),
        executor: (await load("flyte-agent/executor")).includes("executeTask"),
        conformance: (await load("flyte-agent/conformance")).includes("checkConformance"),
        testing: (await load("flyte-agent/testing")).includes("startTestServer"),
        deploy: (await load("flyte-agent/deploy")).includes("createManifests"),
        flyteidl: await load("flyte-agent/flyteidl"),
        rootHasServer: (await load("flyte-agent")).includes("AgentServer"),
        runtime: (await load("@flyte-agent/runtime")).includes("AsyncAgentBase"),
        runtimeServer: (await load("@flyte-agent/runtime/server")).includes("serve"),
        runtimeFlyteidl: await load("@flyte-agent/runtime/flyteidl"),
        // One copy of each module whichever name is imported: classes and the registry are shared.
        sameRoot: await (async () => {
          const [cli, runtime] = [await import("flyte-agent"), await import("@flyte-agent/runtime")];
          return Object.keys(runtime).length > 50 && Object.keys(runtime).every((k) => cli[k] === runtime[k]);
        })(),
        sameServer:
          (await import("flyte-agent/server")).AgentServer ===
          (await import("@flyte-agent/runtime/server")).AgentServer,
      }));`;
    const r = await execa("node", ["--input-type=module", "-e", script], { cwd: root });
    expect(JSON.parse(r.stdout)).toEqual({
      server: true,
      executor: true,
      conformance: true,
      testing: true,
      deploy: true,
      flyteidl: [],
      rootHasServer: false,
      runtime: true,
      runtimeServer: true,
      runtimeFlyteidl: [],
      sameRoot: true,
      sameServer: true,
    });
  });
});
