import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRegistry, TaskExecutionPhase } from "../../src/index.js";
import { serve, type RunningAgentServer } from "../../src/server/index.js";
import { EchoAgent, JobAgent } from "./fixtures/agents.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A Python that has grpcio and protobuf (Debian's python3-grpcio installs them for /usr/bin/python3). */
function findPython(): string | undefined {
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      execFileSync(python, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
      return python;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function has(command: string): boolean {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const python = findPython();
const skipReason = !python
  ? "python3-grpcio and python3-protobuf are not installed (apt-get install python3-grpcio python3-protobuf)"
  : !has("protoc")
    ? "protoc is not installed (apt-get install protobuf-compiler)"
    : undefined;

describe.skipIf(skipReason !== undefined)(
  `a Python grpcio peer${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    let running: RunningAgentServer;
    let generated: string;

    beforeAll(async () => {
      generated = mkdtempSync(path.join(tmpdir(), "flyte-agent-pyproto-"));
      const flyteidl = path.join(root, "node_modules/@flyteorg/flyteidl/protos");
      const googleApis = path.join(root, "node_modules/google-proto-files");
      const protos = [
        "flyteidl/admin/agent.proto",
        "flyteidl/core/literals.proto",
        "flyteidl/core/tasks.proto",
        "flyteidl/core/types.proto",
        "flyteidl/core/interface.proto",
        "flyteidl/core/identifier.proto",
        "flyteidl/core/execution.proto",
        "flyteidl/core/workflow.proto",
        "flyteidl/core/condition.proto",
        "flyteidl/core/metrics.proto",
        "flyteidl/core/security.proto",
        "flyteidl/core/artifact_id.proto",
      ];
      execFileSync("protoc", [`-I${flyteidl}`, `-I${googleApis}`, `--python_out=${generated}`, ...protos]);
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
