import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { exclude, shared, slowSuites } from "./vitest.shared.js";

// The fast loop: every suite but the slow ones (see vitest.slow.config.ts).
export default defineConfig({
  ...shared,
  test: {
    include: [
      "src/**/*.test.ts",
      "packages/runtime/src/**/*.test.ts",
      "test/**/*.test.ts",
      "examples/**/*.test.ts",
    ],
    exclude: [...exclude, ...slowSuites],
    // Vitest's default is one worker fewer than the cores (a single worker on 2 cores); many suites
    // wait on sockets and child processes, so one worker more than the cores keeps them busy.
    // Forks (the default pool), not threads: the in-process CLI tests change the working directory.
    pool: "forks",
    maxWorkers: availableParallelism() + 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
