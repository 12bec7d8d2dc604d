import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { silentLogger, type AgentContext, type TaskRequest } from "../core/context.js";
import { TaskExecutionPhase } from "../core/phase.js";
import type { TaskDefinition } from "../task/define-task.js";
import { defineSensorTask } from "./define-sensor-task.js";
import { FileSensor } from "./file-sensor.js";
import { SensorBase, SensorRegistry } from "./sensor.js";
import { SensorEngine, isSensorEngine } from "./sensor-engine.js";

function context(): AgentContext {
  return { signal: new AbortController().signal, logger: silentLogger, outputPrefix: "" };
}

function request(task: TaskDefinition<any, any, any>, inputs: Record<string, unknown>): TaskRequest {
  return {
    ...context(),
    taskTemplate: task.template(),
    inputs,
    inputLiterals: task.encodeInputs(inputs),
    taskExecutionMetadata: undefined,
  };
}

/** Counts constructions and pokes; ready once `pokes` reaches the config's `after`. */
class CountingSensor extends SensorBase<{ key: string }, { after: number }> {
  static readonly sensorName = "CountingSensor";
  static readonly inputs = { key: z.string() };
  static constructed = 0;
  static last: CountingSensor | undefined;
  pokes = 0;
  seen: { key: string }[] = [];
  constructor(config: { after: number }) {
    super(config);
    CountingSensor.constructed++;
    CountingSensor.last = this;
  }
  override poke(inputs: { key: string }): boolean {
    this.seen.push(inputs);
    return ++this.pokes >= this.config.after;
  }
}

describe("SensorEngine", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sensor-engine-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stores the sensor's identity, config, inputs, start time and timeout in resource_meta", async () => {
    const engine = new SensorEngine({ now: () => 1_700_000_000_500 });
    const task = defineSensorTask({
      name: "wait",
      sensor: CountingSensor,
      config: { after: 2 },
      timeout: "90s",
    });
    const meta = await engine.create(request(task, { key: "a" }));
    expect(Buffer.from(engine.codec.encode(meta)).toString()).toBe(
      '{"sensor_module": "", "sensor_name": "CountingSensor", "sensor_config": {"after": 2}, ' +
        '"inputs": {"key": "a"}, "created_at": 1700000000.5, "timeout_seconds": 90}',
    );
  });

  it("writes exactly flytekit's SensorMetadata keys for the FileSensor, with flytekit's module", async () => {
    const engine = new SensorEngine({ now: () => 1_700_000_000_500 });
    const task = defineSensorTask({ name: "wait_file", sensor: FileSensor, timeout: "1h" });
    expect(task.template().custom).toEqual({
      sensor_module: "flytekit.sensor.file_sensor",
      sensor_name: "FileSensor",
      sensor_config: null,
    });
    const meta = await engine.create(request(task, { path: "/data/ready" }));
    // What flytekit's SensorEngine.create + ResourceMeta.encode write for the same task.
    expect(Buffer.from(engine.codec.encode(meta)).toString()).toBe(
      '{"sensor_module": "flytekit.sensor.file_sensor", "sensor_name": "FileSensor", "sensor_config": null, ' +
        '"inputs": {"path": "/data/ready"}}',
    );
  });

  it("answers RUNNING until poke is true, then SUCCEEDED, building the sensor once per config", async () => {
    CountingSensor.constructed = 0;
    const engine = new SensorEngine();
    const task = defineSensorTask({ name: "wait", sensor: CountingSensor, config: { after: 3 } });
    const meta = engine.codec.decode(engine.codec.encode(await engine.create(request(task, { key: "k" }))));
    const phases: number[] = [];
    for (let i = 0; i < 3; i++) phases.push((await engine.get(meta, context())).phase);
    expect(phases).toEqual([
      TaskExecutionPhase.RUNNING,
      TaskExecutionPhase.RUNNING,
      TaskExecutionPhase.SUCCEEDED,
    ]);
    expect(CountingSensor.constructed).toBe(1);
    expect(engine.cachedSensors).toBe(1);

    const other = defineSensorTask({ name: "wait2", sensor: CountingSensor, config: { after: 1 } });
    const meta2 = await engine.create(request(other, { key: "z" }));
    expect((await engine.get(meta2, context())).phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(CountingSensor.constructed).toBe(2);
  });

  it("hands the task's config to the sensor and the stored inputs to poke", async () => {
    const engine = new SensorEngine();
    const task = defineSensorTask({ name: "wait", sensor: CountingSensor, config: { after: 4 } });
    const meta = engine.codec.decode(
      engine.codec.encode(await engine.create(request(task, { key: "the-key" }))),
    );
    await engine.get(meta, context());
    expect(CountingSensor.last?.config).toEqual({ after: 4 });
    expect(CountingSensor.last?.seen).toEqual([{ key: "the-key" }]);
  });

  it("fails the task with a clear message once the task's timeout has passed", async () => {
    let now = 1_000_000;
    const engine = new SensorEngine({ now: () => now });
    const task = defineSensorTask({
      name: "wait",
      sensor: CountingSensor,
      config: { after: 1000 },
      timeout: 30,
    });
    const meta = await engine.create(request(task, { key: "k" }));
    now += 29_999;
    expect((await engine.get(meta, context())).phase).toBe(TaskExecutionPhase.RUNNING);
    now += 1;
    const timedOut = await engine.get(meta, context());
    expect(timedOut.phase).toBe(TaskExecutionPhase.FAILED);
    expect(timedOut.message).toMatch(/CountingSensor timed out.*30s/);
    expect(timedOut.agentError?.code).toBe("SENSOR_TIMEOUT");
  });

  it("keeps at most maxCachedSensors instances", async () => {
    const engine = new SensorEngine({ maxCachedSensors: 2 });
    for (let after = 1; after <= 5; after++) {
      const task = defineSensorTask({ name: `w${after}`, sensor: CountingSensor, config: { after } });
      await engine.get(await engine.create(request(task, { key: "k" })), context());
    }
    expect(engine.cachedSensors).toBe(2);
  });

  it("rejects a create for a sensor the server does not know, naming the registered ones", async () => {
    const engine = new SensorEngine({ sensors: new SensorRegistry() });
    const task = defineSensorTask({ name: "wait", sensor: CountingSensor });
    await expect(engine.create(request(task, { key: "k" }))).rejects.toThrow(
      /sensor "CountingSensor" is not registered on this server \(registered: FileSensor\)/,
    );
  });

  it("fails a get whose sensor this replica lacks instead of erroring on every poll", async () => {
    const engine = new SensorEngine({ sensors: new SensorRegistry() });
    const got = await engine.get(
      { sensor_module: "x", sensor_name: "Nope", sensor_config: {}, inputs: {} },
      context(),
    );
    expect(got.phase).toBe(TaskExecutionPhase.FAILED);
    expect(got.message).toMatch(/"Nope" is not registered/);
  });

  it("serves resource_meta written by flytekit's sensor engine for its FileSensor", async () => {
    const engine = new SensorEngine({ sensors: new SensorRegistry() });
    const path = join(dir, "from-python.txt");
    const pythonBytes = Buffer.from(
      `{"sensor_module": "flytekit.sensor.file_sensor", "sensor_name": "FileSensor", "sensor_config": null, "inputs": {"path": "${path}"}}`,
    );
    const meta = engine.codec.decode(pythonBytes);
    expect((await engine.get(meta, context())).phase).toBe(TaskExecutionPhase.RUNNING);
    await writeFile(path, "x");
    expect((await engine.get(meta, context())).phase).toBe(TaskExecutionPhase.SUCCEEDED);
  });

  it("reads a flytekit task's jsonpickled sensor_config_pkl", async () => {
    const engine = new SensorEngine();
    const task = defineSensorTask({ name: "wait", sensor: CountingSensor });
    const template = task.template();
    template.custom = {
      sensor_module: "m",
      sensor_name: "CountingSensor",
      sensor_config_pkl: '{"after": 7}',
    };
    const meta = await engine.create({ ...request(task, { key: "k" }), taskTemplate: template });
    expect(meta.sensor_config).toEqual({ after: 7 });
  });

  it("deletes as a no-op, any number of times", async () => {
    const engine = new SensorEngine();
    await expect(engine.delete()).resolves.toBeUndefined();
    await expect(engine.delete()).resolves.toBeUndefined();
  });

  it("is recognised by its brand", () => {
    expect(isSensorEngine(new SensorEngine())).toBe(true);
    expect(isSensorEngine({})).toBe(false);
    expect(FileSensor.sensorName).toBe("FileSensor");
  });
});
