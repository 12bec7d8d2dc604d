// Data interop with flytekit 1.16: the Python peer in test/python encodes and decodes literals as
// flytekit's type engine does, over Debian's grpcio and protoc-compiled flyteidl protos.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PreciseDate, TaskExecutionPhase, defineTask } from "../../packages/runtime/src/index.js";
import { executeTask } from "../../src/executor/index.js";
import { compilePythonProtos, interopSkipReason, python } from "../python/python-protos.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { Shape } from "./fixtures/echo-agents.js";
import { runCliInProcess } from "../support/cli-in-process.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const interopPy = path.join(root, "test/python/interop.py");

/** 2024-05-01T12:00:00.123456Z, as the Python side's WHEN. */
const when = () => new PreciseDate({ seconds: 1_714_564_800n, nanos: 123_456_000 });

/** The JS values equal to the Python side's CASES. */
const values = () => ({
  i_small: 42,
  i_big: 2n ** 63n - 1n,
  f: 2.5,
  s: "héllo ☃ 😀",
  b: true,
  dt: when(),
  dur: 90_000.25,
  ints: [1, -2, 2 ** 40],
  counts: { a: 1, b: 2 },
  untyped: { k: [1, 2.5, "x", null, true], n: { deep: 2n ** 60n }, raw: Buffer.from([0, 255]) },
  dc: { name: "run", inner: { x: 7, when: when() }, tags: ["a", "b"], score: 0.75, raw: Buffer.from([1, 2]) },
  model: { id: 3, label: "m", ratio: 1.5, when: when() },
  opt_some: 5,
  color: "green" as const,
  file: { uri: "s3://bucket/data/file.bin" },
  table: { uri: "s3://bucket/sd/", format: "parquet" },
});

interface CaseResult {
  equal: boolean;
  strict: boolean;
  got: string;
}

describe.skipIf(interopSkipReason !== undefined)(
  `data as flytekit 1.16 sends it, against a Python peer${interopSkipReason ? ` (skipped: ${interopSkipReason})` : ""}`,
  () => {
    let generated: string;
    let work: string;
    let running: ServeProcess;
    let pyAgent: ResultPromise;
    let pyEndpoint: string;

    beforeAll(async () => {
      generated = compilePythonProtos();
      work = mkdtempSync(path.join(tmpdir(), "flyte-agent-interop-"));
      // The real binary (`npm run build` first; `npm test` does it) with the echo agents and the
      // built-in sensor engine.
      running = await startServeProcess([
        "agent",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--no-prometheus",
        "--no-discover",
        "--no-banner",
        "-m",
        "test/interop/fixtures/echo-agents.ts",
        "--builtin",
        "sensor",
      ]);
      pyAgent = execa(python!, [interopPy, "agent", generated], { reject: false });
      const port = await new Promise<string>((resolve, reject) => {
        createInterface({ input: pyAgent.stdout! }).on("line", (line) => {
          if (line.startsWith("listening ")) resolve(line.slice("listening ".length));
        });
        void pyAgent.then((r) => reject(new Error(`the Python agent exited: ${String(r.stderr)}`)));
      });
      pyEndpoint = `127.0.0.1:${port}`;
    });
    afterAll(async () => {
      pyAgent?.kill("SIGKILL");
      running?.child.kill("SIGTERM");
      await running?.child;
      for (const dir of [generated, work]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("a Python caller gets back from a TS echo agent what it sent, for every type", async () => {
      const { stdout } = await execa(python!, [interopPy, "echo", running.address, generated]);
      const seen = JSON.parse(stdout) as Record<
        string,
        { phase: number; message: string; cases: Record<string, CaseResult> }
      >;
      for (const agent of ["echo_plain", "echo_typed"]) {
        expect(seen[agent]?.phase, `${agent}: ${seen[agent]?.message}`).toBe(TaskExecutionPhase.SUCCEEDED);
        const cases = seen[agent]!.cases;
        expect(Object.keys(cases).length).toBeGreaterThanOrEqual(17);
        for (const [name, result] of Object.entries(cases)) {
          if (name === "untyped_float") continue;
          expect(result, `${agent}.${name}: ${result.got}`).toMatchObject({ equal: true, strict: true });
        }
      }
      // The documented limit: an integral float inside an untyped dict comes back as an int (2.0 -> 2).
      expect(seen.echo_plain!.cases.untyped_float).toEqual({ equal: true, strict: false, got: "{'r': 2}" });
    });

    it("flyte-agent run sends each type to a Python agent and decodes its msgpack answers", async () => {
      const task = defineTask({ name: "py_echo", taskType: "py_echo", inputs: Shape, outputs: Shape });
      const result = await executeTask({ task, inputs: values(), endpoint: pyEndpoint, outputDir: work });
      expect(result.succeeded, result.message).toBe(true);
      const outputs = result.outputs as Record<string, any>;
      expect(outputs).toEqual({ ...values(), opt_none: undefined });
      // Microseconds survive both ways, at the top and inside dataclasses and models.
      for (const d of [outputs.dt, outputs.dc.inner.when, outputs.model.when]) {
        expect((d as PreciseDate).toPreciseISOString()).toBe("2024-05-01T12:00:00.123456Z");
      }
      expect(typeof outputs.i_big).toBe("bigint");
      expect(Buffer.isBuffer(outputs.dc.raw)).toBe(true);
    });

    it("run decodes a Python agent's msgpack outputs without schemas too", async () => {
      const typed = defineTask({ name: "py_echo", taskType: "py_echo", inputs: Shape, outputs: Shape });
      const template = typed.template();
      const result = await executeTask({
        task: { template },
        inputs: typed.encodeInputs(values()),
        endpoint: pyEndpoint,
        outputDir: work,
      });
      expect(result.succeeded, result.message).toBe(true);
      const outputs = result.outputs as Record<string, any>;
      expect(outputs.untyped).toEqual(values().untyped);
      expect(outputs.dc).toEqual({
        ...values().dc,
        inner: { x: 7, when: "2024-05-01T12:00:00.123456+00:00" },
      });
      expect(outputs.model.when).toBe("2024-05-01T12:00:00.123456Z");
      expect((outputs.dt as PreciseDate).nanos).toBe(123_456_000);
    });

    it("the run command sends command-line inputs to the Python agent, which finds them exact", async () => {
      const model = '{"id": 3, "label": "m", "ratio": 1.5, "when": "2024-05-01T12:00:00.123456Z"}';
      // The CLI's main in-process: command-line parsing and encoding are the same as the binary's.
      const { stdout, exitCode } = await runCliInProcess(
        [
          ...["run", "test/interop/fixtures/py-echo-task.ts", "--endpoint", pyEndpoint, "--json"],
          ...["--i_small", "42", "--i_big", "9223372036854775807", "--f", "2.5", "--s", "héllo ☃ 😀"],
          ...["--b", "true", "--dt", "2024-05-01T12:00:00.123456Z", "--dur", "90.00025"],
          ...["--ints", "[1, -2, 1099511627776]", "--counts", '{"a": 1, "b": 2}', "--model", model],
          ...["--opt_some", "5", "--color", "green", "--file", "s3://bucket/data/file.bin"],
          ...["--table", "s3://bucket/sd/"],
        ],
        { cwd: root },
      );
      const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, any>;
      // The Python agent answers FAILED naming any input that is not exactly flytekit's value.
      expect(result.message ?? "", result.message).toBe("");
      expect(result).toMatchObject({ type: "result", succeeded: true });
      expect(result.outputs).toMatchObject({ i_big: "9223372036854775807", color: "green", opt_some: 5 });
      expect(exitCode).toBe(0);
    });

    it("a FileSensor task moves between a TS replica and flytekit's engine both ways", async () => {
      const { stdout } = await execa(python!, [interopPy, "sensor", running.address, generated, work]);
      const seen = JSON.parse(stdout) as Record<string, unknown>;
      const meta = (file: string) =>
        `{"sensor_module": "flytekit.sensor.file_sensor", "sensor_name": "FileSensor", "sensor_config": null, ` +
        `"inputs": {"path": "${path.join(work, file)}"}}`;
      // The TS replica writes byte for byte what flytekit's engine writes.
      expect(seen.ts_meta).toBe(meta("from-typescript.txt"));
      expect(seen.python_meta).toBe(meta("from-python.txt"));
      expect(seen.python_completes_ts).toEqual([TaskExecutionPhase.RUNNING, TaskExecutionPhase.SUCCEEDED]);
      expect(seen.ts_completes_python).toEqual([TaskExecutionPhase.RUNNING, TaskExecutionPhase.SUCCEEDED]);
      expect(seen.strict).toBe("KeyError: 'created_at'");
    });
  },
);
