// FlytePropeller's contract in one place: propeller/ is rules without a network, only the client
// builds gRPC clients, and no Propeller default is restated outside propeller/ (the import rules of
// every folder are test/layers.test.ts).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Both packages: the CLI's sources (src/) and the runtime's (packages/runtime/src/), where propeller/ lives.
const roots = ["../../src", "../../packages/runtime/src"].map((r) => new URL(r, import.meta.url).pathname);

/** The non-test sources of `dir` in whichever package holds it (both, for cli/). */
function sources(dir: string): { file: string; text: string }[] {
  const found = roots.filter((root) => existsSync(join(root, dir)));
  if (found.length === 0) throw new Error(`no package has a ${dir}/ folder`);
  return found.flatMap((root) => walk(root, dir));
}

function walk(root: string, dir: string): { file: string; text: string }[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? walk(root, join(dir, e.name))
      : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")
        ? [{ file: join(dir, e.name), text: readFileSync(join(root, dir, e.name), "utf8") }]
        : [],
  );
}

const imports = (text: string) => [...text.matchAll(/(?:from|import\()\s*"([^"]+)"/g)].map((m) => m[1]!);

describe("layering", () => {
  it("propeller/ imports no gRPC, network, server, executor, conformance or client code", () => {
    const bad = sources("propeller").flatMap(({ file, text }) =>
      imports(text)
        .filter((i) =>
          /grpc|node:(net|http|https|http2|dns|tls)|\/(server|executor|conformance|client|cli)\//.test(i),
        )
        .map((i) => `${file} → ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it("only the client constructs gRPC clients for the agent services", () => {
    const bad = ["executor", "conformance", "deploy"].flatMap((dir) =>
      sources(dir)
        .filter(({ text }) =>
          /new (Client|AsyncAgentServiceClient|SyncAgentServiceClient|AgentMetadataServiceClient)\(|makeClientConstructor/.test(
            text,
          ),
        )
        .map(({ file }) => file),
    );
    expect(bad).toEqual([]);
  });

  it("FlytePropeller's defaults are defined once, in propeller/defaults.ts", () => {
    // 3 s / 10 s deadlines, 30 s resync, 10 s poll, 2 MB and 4 MiB limits, 10 qps / burst 100.
    const restated =
      /\b(?:3_000|10_000|30_000)\b|2 \* 1024 \* 1024|4 \* 1024 \* 1024|qps: 10\b|burst: 100\b|maxSystemFailures: 5\b/;
    // Same digits, other facts: a byte-count formatting threshold and kubectl's own wait.
    const notPropeller = new Set(["if (n < 10_000) return `${n} bytes`;", "timeoutMs = 30_000,"]);
    const bad = ["executor", "conformance", "deploy", "client", "propeller", "cli"].flatMap((dir) =>
      sources(dir)
        .filter(({ file }) => file !== join("propeller", "defaults.ts"))
        .flatMap(({ file, text }) =>
          text
            .split("\n")
            .map((line, i) => ({ line, n: i + 1 }))
            .filter(
              ({ line }) =>
                restated.test(line) &&
                !notPropeller.has(line.trim()) &&
                !line.trim().startsWith("*") &&
                !line.trim().startsWith("//"),
            )
            .map(({ n, line }) => `${file}:${n}: ${line.trim()}`),
        ),
    );
    expect(bad).toEqual([]);
  });
});
