import { fileURLToPath } from "node:url";
import type { ViteUserConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));
const runtimeSrc = (p: string) => fileURLToPath(new URL(`./packages/runtime/src/${p}`, import.meta.url));

/** The suites too slow for the fast loop (`npm test`); `npm run test:slow` runs them, and CI runs both. */
export const slowSuites = [
  "test/reliability/fuzz.test.ts",
  "test/reliability/load.test.ts",
  "test/reliability/faults.test.ts",
  "test/reliability/faults-executor.test.ts",
  "test/scaffold/templates.e2e.test.ts",
  "test/server/workers.test.ts",
  "test/examples/quickstart-clone.e2e.test.ts",
  "test/templates-conformance.test.ts",
  // The README's quickstart end to end: npx, the CLI, the warehouse's DuckDB job processes.
  "test/examples/quickstart.e2e.test.ts",
];

export const shared: ViteUserConfig = {
  resolve: {
    // Examples and templates import the package by name; inside this repo that is the source tree.
    alias: [
      { find: /^@flyte-agent\/runtime$/, replacement: runtimeSrc("index.ts") },
      { find: /^@flyte-agent\/runtime\/server$/, replacement: runtimeSrc("server/index.ts") },
      { find: /^@flyte-agent\/runtime\/flyteidl$/, replacement: runtimeSrc("flyteidl.ts") },
      { find: /^@flyte-agent\/runtime\/internal\/(.*)\.js$/, replacement: runtimeSrc("$1.ts") },
      { find: /^flyte-agent$/, replacement: src("index.ts") },
      { find: /^flyte-agent\/server$/, replacement: src("server.ts") },
      { find: /^flyte-agent\/executor$/, replacement: src("executor/index.ts") },
      { find: /^flyte-agent\/conformance$/, replacement: src("conformance/index.ts") },
      { find: /^flyte-agent\/testing$/, replacement: src("testing/index.ts") },
      { find: /^flyte-agent\/deploy$/, replacement: src("deploy/index.ts") },
      { find: /^flyte-agent\/flyteidl$/, replacement: src("flyteidl.ts") },
    ],
  },
};

export const exclude = ["**/node_modules/**", "**/dist/**"];
