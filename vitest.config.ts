import { defineConfig } from "vitest/config";
import { exclude, shared, slowSuites } from "./vitest.shared.js";

// The fast loop: every suite but the slow ones (see vitest.slow.config.ts).
export default defineConfig({
  ...shared,
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: [...exclude, ...slowSuites],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
