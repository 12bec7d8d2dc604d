import { describe, expect, it } from "vitest";
import { npmNameProblem, resolveProjectNames } from "./names.js";

describe("resolveProjectNames", () => {
  it("derives task type, class and package from a one-word name", () => {
    expect(resolveProjectNames("bigquery")).toEqual({
      name: "bigquery",
      taskType: "bigquery",
      className: "BigqueryAgent",
      packageName: "flyte-agent-bigquery",
    });
  });

  it("turns separators into underscores in the task type and words in the class", () => {
    expect(resolveProjectNames("my-warehouse.v2")).toMatchObject({
      taskType: "my_warehouse_v2",
      className: "MyWarehouseV2Agent",
      packageName: "flyte-agent-my-warehouse.v2",
    });
  });

  it("does not repeat the flyte-agent- prefix", () => {
    expect(resolveProjectNames("flyte-agent-s3")).toMatchObject({
      taskType: "s3",
      className: "S3Agent",
      packageName: "flyte-agent-s3",
    });
  });

  it("ends a derived class name with the suffix asked for", () => {
    expect(resolveProjectNames("s3-ready", { classSuffix: "Sensor" }).className).toBe("S3ReadySensor");
  });

  it("takes overrides for each derived name", () => {
    expect(
      resolveProjectNames("bq", {
        packageName: "@acme/bq-agent",
        className: "BigQueryAgent",
        taskType: "bigquery_query_job_task",
      }),
    ).toEqual({
      name: "bq",
      packageName: "@acme/bq-agent",
      className: "BigQueryAgent",
      taskType: "bigquery_query_job_task",
    });
  });

  it.each([
    ["../evil", /must not contain/],
    ["a/b", /must not contain/],
    ["a\\b", /must not contain/],
    ["BigQuery", /lowercase letters/],
    ["1password", /starting with a letter/],
    ["has space", /lowercase letters/],
    ["", /not a valid agent name/],
    ["trailing-", /lowercase letters/],
  ])("refuses the name %j", (name, message) => {
    expect(() => resolveProjectNames(name)).toThrow(message);
  });

  it("refuses overrides that are not valid", () => {
    expect(() => resolveProjectNames("bq", { packageName: "Bad_Name" })).toThrow(
      /not a valid npm package name: it has uppercase/,
    );
    expect(() => resolveProjectNames("bq", { className: "2Agent" })).toThrow(/not a valid class name/);
    expect(() => resolveProjectNames("bq", { taskType: "a b" })).toThrow(/not a valid task type/);
  });
});

describe("npmNameProblem", () => {
  it.each(["flyte-agent-x", "@acme/agent", "a.b~c"])("accepts %j", (name) => {
    expect(npmNameProblem(name)).toBeUndefined();
  });

  it.each([
    [".hidden", /dot/],
    ["_private", /underscore/],
    ["node_modules", /reserved/],
    ["http", /core module/],
    ["@acme", /scope/],
    ["a".repeat(215), /214/],
    ["café", /URL-safe/],
  ])("explains why %j is refused", (name, problem) => {
    expect(npmNameProblem(name)).toMatch(problem);
  });
});
