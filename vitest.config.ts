import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples and templates import the package by name; inside this repo that is the source tree.
    alias: [
      { find: /^flyte-agent$/, replacement: src("index.ts") },
      { find: /^flyte-agent\/testing$/, replacement: src("testing/index.ts") },
      { find: /^flyte-agent\/deploy$/, replacement: src("deploy/index.ts") },
    ],
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
