import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { ResourceType } from "../gen/flyteidl/core/identifier.js";
import { LiteralMap } from "../gen/flyteidl/core/literals.js";
import { RuntimeMetadata_RuntimeType, Sql_Dialect, TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import { SimpleType } from "../gen/flyteidl/core/types.js";
import { TypeTransformError } from "../types/errors.js";
import { flyte } from "../types/flyte-schemas.js";
import { defineTask, isTaskDefinition, TASK_DEFINITION_BRAND } from "./define-task.js";
import { runtimeVersion } from "./runtime-version.js";

const query = defineTask({
  name: "reports.daily_totals",
  taskType: "warehouse_query",
  taskTypeVersion: 1,
  inputs: { day: z.date(), limit: z.int().default(100), region: z.enum(["eu", "us"]).optional() },
  outputs: { results: flyte.structuredDataset(), rows: z.bigint() },
  inputDescriptions: { day: "the day to total" },
  config: { warehouse: "analytics", priority: 2, labels: ["a", "b"], nested: { on: true } },
  sql: "select * from totals where day = '{{ .Inputs.day }}'",
  timeout: "10m",
  retries: 3,
  interruptible: true,
});

function roundTrip(template: TaskTemplate): TaskTemplate {
  return TaskTemplate.decode(TaskTemplate.encode(template).finish());
}

describe("defineTask", () => {
  it("builds a TaskTemplate whose bytes decode back to the same template", () => {
    const template = query.template();
    expect(roundTrip(template)).toEqual(template);
  });

  it("fills the identifier, type and version", () => {
    const t = roundTrip(query.template());
    expect(t.id).toEqual({
      resourceType: ResourceType.TASK,
      project: "flytesnacks",
      domain: "development",
      name: "reports.daily_totals",
      version: "local",
      org: "",
    });
    expect(t.type).toBe("warehouse_query");
    expect(t.taskTypeVersion).toBe(1);
    expect(query.category).toEqual({ name: "warehouse_query", version: 1 });
  });

  it("writes the config to custom as a Struct", () => {
    expect(roundTrip(query.template()).custom).toEqual({
      warehouse: "analytics",
      priority: 2,
      labels: ["a", "b"],
      nested: { on: true },
    });
  });

  it("writes the SQL statement with the ANSI dialect by default", () => {
    expect(roundTrip(query.template()).sql).toEqual({
      statement: "select * from totals where day = '{{ .Inputs.day }}'",
      dialect: Sql_Dialect.ANSI,
    });
    const hive = defineTask({ name: "h", taskType: "hive", sql: { statement: "select 1", dialect: "hive" } });
    expect(roundTrip(hive.template()).sql?.dialect).toBe(Sql_Dialect.HIVE);
  });

  it("writes timeout, retries, interruptible and the runtime to the metadata", () => {
    const metadata = roundTrip(query.template()).metadata;
    expect(metadata?.timeout).toEqual({ seconds: 600n, nanos: 0 });
    expect(metadata?.retries).toEqual({ retries: 3 });
    expect(metadata?.interruptible).toBe(true);
    expect(metadata?.runtime).toEqual({
      type: RuntimeMetadata_RuntimeType.FLYTE_SDK,
      version: runtimeVersion,
      flavor: "typescript",
    });
    const numeric = defineTask({ name: "n", taskType: "t", timeout: 90.5 });
    expect(roundTrip(numeric.template()).metadata?.timeout).toEqual({ seconds: 90n, nanos: 500_000_000 });
  });

  it("writes the typed interface with descriptions", () => {
    const iface = roundTrip(query.template()).interface;
    expect(iface?.inputs?.variables.day?.type?.simple).toBe(SimpleType.DATETIME);
    expect(iface?.inputs?.variables.day?.description).toBe("the day to total");
    expect(iface?.inputs?.variables.limit?.type?.simple).toBe(SimpleType.INTEGER);
    expect(iface?.inputs?.variables.region?.type?.unionType?.variants[0]?.enumType?.values).toEqual([
      "eu",
      "us",
    ]);
    expect(iface?.outputs?.variables.results?.type?.structuredDatasetType?.format).toBe("parquet");
    expect(iface?.outputs?.variables.rows?.type?.simple).toBe(SimpleType.INTEGER);
  });

  it("writes an empty custom (Flyte 2 reads the connection from it) and leaves sql, timeout and container unset when not given", () => {
    const bare = roundTrip(defineTask({ name: "bare", taskType: "echo" }).template());
    expect(bare.custom).toEqual({});
    expect(bare.sql).toBeUndefined();
    expect(bare.container).toBeUndefined();
    expect(bare.metadata?.timeout).toBeUndefined();
    expect(bare.taskTypeVersion).toBe(0);
    expect(bare.interface?.inputs?.variables).toEqual({});
  });

  it("writes a container, cache settings and a custom identifier", () => {
    const t = roundTrip(
      defineTask({
        name: "c",
        taskType: "container_job",
        project: "p",
        domain: "production",
        version: "v7",
        container: { image: "alpine:3", command: ["sh", "-c"], args: ["echo hi"], env: { A: "1" } },
        cache: { version: "2", serializable: true, ignoreInputs: ["x"] },
      }).template(),
    );
    expect(t.id?.project).toBe("p");
    expect(t.id?.domain).toBe("production");
    expect(t.id?.version).toBe("v7");
    expect(t.container?.image).toBe("alpine:3");
    expect(t.container?.command).toEqual(["sh", "-c"]);
    expect(t.container?.args).toEqual(["echo hi"]);
    expect(t.container?.env).toEqual([{ key: "A", value: "1" }]);
    expect(t.metadata?.discoverable).toBe(true);
    expect(t.metadata?.discoveryVersion).toBe("2");
    expect(t.metadata?.cacheSerializable).toBe(true);
    expect(t.metadata?.cacheIgnoreInputVars).toEqual(["x"]);
  });

  it("returns a fresh template on every call", () => {
    const a = query.template();
    a.type = "changed";
    a.custom!.warehouse = "changed";
    expect(query.template().type).toBe("warehouse_query");
    expect(query.template().custom?.warehouse).toBe("analytics");
  });

  it.each([
    [{ name: "", taskType: "t" }, /non-empty name/],
    [{ name: "x", taskType: "" }, /non-empty taskType/],
    [{ name: "x", taskType: "t", timeout: "soon" }, /timeout/],
    [{ name: "x", taskType: "t", timeout: -1 }, /timeout/],
    [{ name: "x", taskType: "t", retries: 1.5 }, /retries must be a non-negative integer/],
    [{ name: "x", taskType: "t", config: { when: new Date() } as never }, /config config.when/],
    [{ name: "x", taskType: "t", inputs: { f: z.string().transform((s) => s.length) } }, /input "f"/],
  ])("rejects invalid options (%#)", (options, message) => {
    let error: unknown;
    try {
      defineTask(options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlyteAgentError);
    expect((error as FlyteAgentError).code).toBe(ErrorCode.INVALID_TASK_TEMPLATE);
    expect((error as FlyteAgentError).message).toMatch(message);
  });
});

describe("inputs and outputs", () => {
  it("encodes inputs to a LiteralMap that decodes back through the bytes", () => {
    const day = new Date("2024-05-01T00:00:00Z");
    const map = LiteralMap.decode(LiteralMap.encode(query.encodeInputs({ day, region: "eu" })).finish());
    expect(map.literals.limit?.scalar?.primitive?.integer).toBe(100n);
    expect(query.decodeInputs(map)).toEqual({ day, limit: 100, region: "eu" });
  });

  it("rejects bad input values naming the input", () => {
    expect(() => query.encodeInputs({ day: "monday" as unknown as Date })).toThrow(
      'input "day": expected datetime, got string "monday"',
    );
    expect(() => query.encodeInputs({ day: new Date(), region: "mars" as "eu" })).toThrow(/input "region"/);
    expect(() => query.encodeInputs({} as { day: Date })).toThrow(TypeTransformError);
  });

  it("encodes and decodes outputs with full int64 precision", () => {
    const map = LiteralMap.decode(
      LiteralMap.encode(query.encodeOutputs({ results: "s3://b/out/", rows: 2n ** 62n })).finish(),
    );
    expect(query.decodeOutputs(map)).toEqual({
      results: { uri: "s3://b/out/", format: "parquet" },
      rows: 2n ** 62n,
    });
    expect(() => query.decodeOutputs({ literals: {} })).toThrow('output "results": missing required output');
  });
});

describe("isTaskDefinition", () => {
  it("recognises task definitions and nothing else", () => {
    expect(isTaskDefinition(query)).toBe(true);
    expect(isTaskDefinition({ name: "x", template: () => ({}) })).toBe(false);
    expect(isTaskDefinition(null)).toBe(false);
    expect(isTaskDefinition("task")).toBe(false);
  });

  it("recognises a definition made by another copy of the library through the shared symbol", () => {
    const foreign = { [Symbol.for("flyte-agent.task")]: true, name: "other" };
    expect(TASK_DEFINITION_BRAND).toBe(Symbol.for("flyte-agent.task"));
    expect(isTaskDefinition(foreign)).toBe(true);
  });
});
