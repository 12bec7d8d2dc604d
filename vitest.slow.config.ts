import { defineConfig } from "vitest/config";
import { exclude, shared, slowSuites } from "./vitest.shared.js";

// Fuzz, load, faults and the scaffold end-to-end run: `npm run test:slow`.
export default defineConfig({
  ...shared,
  test: {
    include: slowSuites,
    exclude,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
