import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRegistry, TaskExecutionPhase } from "../../packages/runtime/src/index.js";
import { serve, type RunningAgentServer } from "../../packages/runtime/src/server/index.js";
import { compilePythonProtos, python, pythonSkipReason } from "../python/python-protos.js";
import { EchoAgent, JobAgent } from "./fixtures/agents.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe.skipIf(pythonSkipReason !== undefined)(
  `a Python grpcio peer${pythonSkipReason ? ` (skipped: ${pythonSkipReason})` : ""}`,
  () => {
    let running: RunningAgentServer;
    let generated: string;

    beforeAll(async () => {
      generated = compilePythonProtos();
      const registry = new AgentRegistry();
      registry.register(new JobAgent());
      registry.register(new EchoAgent());
      running = await serve({
        registry,
        host: "127.0.0.1",
        port: 0,
        prometheusPort: false,
        discover: false,
        handleSignals: false,
        banner: false,
        logLevel: "silent",
      });
    });
    afterAll(async () => {
      await running?.stop();
      if (generated) rmSync(generated, { recursive: true, force: true });
    });

    it("speaks the same wire format: list, create, get, sync execute, errors and health", async () => {
      const { stdout } = await execa(python!, [
        path.join(root, "test/python/peer.py"),
        running.address,
        generated,
      ]);
      const seen = JSON.parse(stdout) as Record<string, any>;
      expect(seen.agents).toEqual([
        { name: "JobAgent", is_sync: false, categories: ["job_v0"] },
        { name: "EchoAgent", is_sync: true, categories: ["echo_v0"] },
      ]);
      expect(seen.resource_meta).toBe('{"job_id": "job-7"}');
      expect(seen.get).toEqual({ phase: TaskExecutionPhase.SUCCEEDED, outputs: { id: "job-7", n: 3 } });
      expect(seen.sync).toEqual([{ phase: TaskExecutionPhase.SUCCEEDED, outputs: { text: "PY" } }]);
      expect(seen.not_found).toEqual({
        code: "NOT_FOUND",
        details: "Cannot find connector for task category: bigquery_v0. Available: [echo_v0, job_v0]",
      });
      expect(seen.health).toEqual([0x08, 1]);
    });
  },
);
