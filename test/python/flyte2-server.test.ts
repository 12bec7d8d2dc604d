/**
 * One `flyte-agent serve agent` process (the built binary), one agent module, two independent
 * Python peers: a Flyte 2 client built from flyteidl2's descriptors (protoc + Debian's
 * grpc_python_plugin stubs of connector/service.proto) and a Flyte 1 client from flyteidl's protos.
 * The Flyte 2 connection carries a secret; it must reach the agent (which answers only its hash) and
 * appear nowhere else: not in answers, resource_meta, the server's stdout/stderr, nor --record files.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskExecutionPhase } from "../../packages/runtime/src/index.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import {
  compileFlyte2PythonProtos,
  compileFlyte2PythonServiceStubs,
  compilePythonProtos,
  compilePythonServiceStubs,
  grpcStubsSkipReason,
  python,
} from "./python-protos.js";

const here = import.meta.dirname;
const root = path.resolve(here, "../..");
// Not a literal anywhere the server could have learnt it from: made per run.
const SECRET = `tok-${process.pid}-${Date.now().toString(36)}-do-not-leak`;

describe.skipIf(grpcStubsSkipReason !== undefined)(
  `serve agent to Flyte 1 and Flyte 2 Python peers at once${grpcStubsSkipReason ? ` (skipped: ${grpcStubsSkipReason})` : ""}`,
  () => {
    let v1Generated: string;
    let v2Generated: string;
    let records: string;
    let server: ServeProcess;
    let flyte2: Record<string, any>;
    let flyte1: Record<string, any>;

    beforeAll(async () => {
      v2Generated = compileFlyte2PythonProtos();
      compileFlyte2PythonServiceStubs(v2Generated);
      v1Generated = compilePythonProtos();
      compilePythonServiceStubs(v1Generated);
      records = mkdtempSync(path.join(tmpdir(), "flyte-agent-f2-records-"));
      server = await startServeProcess([
        "agent",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--prometheus-port",
        "0",
        "--no-discover",
        "--no-banner",
        "--log-level",
        "debug",
        "--record",
        records,
        "-m",
        "test/server/fixtures/flyte2-agents.ts",
      ]);
      // The peers run one after the other, so the record of the Flyte 1 create is the only one.
      flyte2 = JSON.parse(
        (await execa(python!, [path.join(here, "flyte2_peer.py"), server.address, v2Generated, SECRET]))
          .stdout,
      ) as Record<string, any>;
      flyte1 = JSON.parse(
        (await execa(python!, [path.join(here, "flyte1_same_agent.py"), server.address, v1Generated])).stdout,
      ) as Record<string, any>;
    }, 120_000);
    afterAll(async () => {
      server?.child.kill("SIGKILL");
      for (const dir of [v1Generated, v2Generated, records])
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("lists and describes the connectors, the sync agent among them", () => {
      expect(flyte2.connectors).toEqual([
        ["ShoutAgent", ["shout_v0"]],
        ["WarehouseAgent", ["warehouse_v0"]],
      ]);
      expect(flyte2.get_connector).toBe("WarehouseAgent");
    });

    it("runs Create → Get → Delete with named inputs and ordered outputs, the secret reaching the agent", () => {
      expect(JSON.parse(flyte2.resource_meta)).toEqual({ job_id: "q-7-py", n: 7 });
      expect(flyte2.get).toEqual({
        phase: TaskExecutionPhase.SUCCEEDED,
        message: "",
        outputs: [
          ["rows", 70],
          ["table", "t_q-7-py"],
        ],
        log_links: [["console", "https://warehouse.example/q-7-py"]],
        custom_info: expect.objectContaining({ protocol: "flyte2", region: "eu" }),
      });
      expect(flyte2.secret_hash_matches).toBe(true);
      expect(flyte2.deleted).toBe(true);
    });

    it("streams GetTaskLogs as structured lines, and answers GetTaskMetrics", () => {
      expect(flyte2.logs).toEqual([
        { token: "page-2" },
        {
          lines: [
            ["starting", 0, 0, 0],
            ["scanned 7 partitions", 1, 1_700_000_000, 250_000_000],
          ],
        },
        { lines: [["done", 2, 0, 0]] },
      ]);
      expect(flyte2.metrics).toEqual([["rows_scanned", "scalar"]]);
    });

    it("serves the sync agent through CreateTask/GetTask", () => {
      expect(flyte2.sync).toEqual({
        phase: TaskExecutionPhase.SUCCEEDED,
        outputs: [
          ["text", "HEY!"],
          ["had_secret", true],
        ],
      });
    });

    it("answers errors with Flyte 1's codes", () => {
      expect(flyte2.unknown_task_type).toEqual({
        code: "NOT_FOUND",
        details: "Cannot find connector for task category: bigquery_v0. Available: [shout_v0, warehouse_v0]",
      });
      expect(flyte2.bad_meta.code).toBe("INVALID_ARGUMENT");
      expect(flyte2.bad_sync_meta).toEqual({
        code: "INVALID_ARGUMENT",
        details: expect.stringContaining("resource_meta is not a result of the sync agent ShoutAgent"),
      });
    });

    it("answers a Flyte 1 client from the same agent module and process", () => {
      expect(flyte1.agents).toEqual([
        ["ShoutAgent", true],
        ["WarehouseAgent", false],
      ]);
      expect(flyte1.resource_meta).toBe('{"job_id": "q-3-v1", "n": 3}');
      expect(flyte1.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      expect(flyte1.outputs).toEqual({ rows: 30, table: "t_q-3-v1" });
      expect(flyte1.custom_info).toEqual({ protocol: "flyte1", region: "" });
      expect(flyte1.logs).toEqual(["starting", "scanned 3 partitions", "done"]);
    });

    it("keeps the secret out of answers, logs, metrics and record files", async () => {
      expect(flyte2.secret_in_answers).toBe(false);
      expect(flyte2.resource_meta).not.toContain(SECRET);
      // The agent logged its connection and whole context: the server's logger redacts `secrets`.
      const create = await server.logged("warehouse create");
      expect(JSON.stringify(create)).not.toContain(SECRET);
      expect(create.connection).toMatchObject({
        taskType: "warehouse",
        configs: { region: "eu" },
      });
      await server.logged("warehouse delete");
      const metrics = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
      expect(metrics).toContain('operation="create",protocol="flyte2"');
      expect(metrics).toContain('operation="create",protocol="flyte1"');
      // Both creates' inputs were measured as they came on the wire.
      expect(metrics).toMatch(
        /flyte_agent_input_literal_bytes_count\{task_type="warehouse",protocol="flyte1"\} 1\n/,
      );
      expect(metrics).toMatch(
        /flyte_agent_input_literal_bytes_count\{task_type="warehouse",protocol="flyte2"\} 1\n/,
      );
      server.child.kill("SIGTERM");
      const result = await server.child;
      expect(result.stdout).toContain("warehouse get");
      expect(result.stdout).not.toContain(SECRET);
      expect(result.stderr).not.toContain(SECRET);
      expect(metrics).not.toContain(SECRET);
      // Flyte 2 calls are not recorded (said once); the Flyte 1 create is.
      expect(
        server.count((l) =>
          String(l.msg).includes("Flyte 2 (flyteidl2.connector) calls are served but not recorded"),
        ),
      ).toBe(1);
      const files = readdirSync(records).filter((f) => !f.startsWith("."));
      expect(files).toHaveLength(1);
      for (const f of files) expect(readFileSync(path.join(records, f)).includes(SECRET)).toBe(false);
    });

    it("converts only messages whose shared fields match in number, type and label", () => {
      const v1Set = path.join(v1Generated, "flyteidl.binpb");
      execFileSync("protoc", [
        `-I${path.join(root, "node_modules/@flyteorg/flyteidl/protos")}`,
        `-I${path.join(root, "node_modules/google-proto-files")}`,
        "--include_imports",
        `--descriptor_set_out=${v1Set}`,
        "flyteidl/admin/agent.proto",
      ]);
      const out = execFileSync(python!, [
        path.join(here, "compare_descriptors.py"),
        v2Generated,
        v1Set,
        path.join(v2Generated, "flyteidl2.binpb"),
      ]);
      const differences = JSON.parse(out.toString()) as Record<string, string[]>;
      // Flyte 2 only adds fields; nothing shared differs (the v1 `overrides` field Flyte 2 never sends).
      for (const [pair, diffs] of Object.entries(differences)) {
        for (const d of diffs) expect(d, pair).toMatch(/ only in v[12]$/);
      }
      expect(
        differences["flyteidl.admin.TaskExecutionMetadata ~ flyteidl2.connector.TaskExecutionMetadata"],
      ).toEqual(["flyteidl.admin.TaskExecutionMetadata.overrides (10) only in v1"]);
      expect(differences["flyteidl.core.TaskLog ~ flyteidl2.core.TaskLog"]).toContain(
        "flyteidl.core.TaskLog.link_type (7) only in v2",
      );
    });
  },
);
