import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { AgentRegistry, type SensorEngine, isSensorEngine } from "flyte-agent";
import { runThroughExecutor, startAsyncTask, startTestServer, type TestServer } from "flyte-agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForFile } from "../task.js";

describe("the file-sensor example", () => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "file-sensor-example-"));
    // What `flyte-agent run` / `serve --modules` do: serve the process-wide registry the module filled.
    server = await startTestServer({ registry: AgentRegistry.default });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("registers the sensor engine, and only it, when loaded", () => {
    expect(isSensorEngine(AgentRegistry.default.getAgent("sensor"))).toBe(true);
    expect(AgentRegistry.default.listAgents().map((a) => a.name)).toEqual(["Sensor"]);
  });

  it("defines a sensor task with a path input and a timeout", () => {
    const template = waitForFile.template();
    expect(template.type).toBe("sensor");
    expect(template.custom).toEqual({
      sensor_module: "flytekit.sensor.file_sensor",
      sensor_name: "FileSensor",
      sensor_config: null,
    });
    expect(Object.keys(template.interface?.inputs?.variables ?? {})).toEqual(["path"]);
    expect(template.metadata?.timeout?.seconds).toBe(600n);
  });

  it("keeps running until the file appears, then succeeds", async () => {
    const engine = AgentRegistry.default.getAgent("sensor") as SensorEngine;
    const uri = pathToFileURL(join(dir, "ready.txt")).href;
    const run = await startAsyncTask(engine, waitForFile, { path: uri }, { outputPrefix: dir });
    expect((await run.poll()).phaseName).toBe("RUNNING");
    expect((await run.poll()).phaseName).toBe("RUNNING");
    await writeFile(join(dir, "ready.txt"), "go");
    expect((await run.poll()).phaseName).toBe("SUCCEEDED");
  });

  it("is served through the real gRPC server", async () => {
    const uri = pathToFileURL(join(dir, "ready.txt")).href;
    await writeFile(join(dir, "ready.txt"), "go");
    const result = await runThroughExecutor(waitForFile, { path: uri }, { server });
    expect(result.phase).toBe("SUCCEEDED");
  });
});
