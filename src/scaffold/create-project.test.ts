import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProject } from "./create-project.js";

const own = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe("createProject", () => {
  let cwd = "";
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), "flyte-agent-new-"));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it("renders the async template with the derived names", async () => {
    const project = await createProject({ name: "bigquery", cwd });
    expect(project.dir).toBe(join(cwd, "bigquery"));
    expect(project.template).toBe("async");
    expect(project.files).toEqual(
      expect.arrayContaining([
        ".gitignore",
        ".dockerignore",
        "Dockerfile",
        "package.json",
        "src/agent.ts",
        "src/task.ts",
        "test/agent.test.ts",
      ]),
    );
    expect(project.files).not.toContain("_gitignore");

    const agent = await readFile(join(project.dir, "src/agent.ts"), "utf8");
    expect(agent).toContain("export class BigqueryAgent extends AsyncAgentBase");
    expect(agent).toContain('taskTypeName: "bigquery"');
    expect(agent).toContain("Call the real API here");
    const task = await readFile(join(project.dir, "src/task.ts"), "utf8");
    expect(task).toContain("export const bigqueryTask = defineTask");
    expect(task).toContain('taskType: "bigquery"');
    expect(task).toContain('name: "bigquery.example"');
    for (const file of project.files) {
      expect(await readFile(join(project.dir, file), "utf8"), file).not.toMatch(/starter/i);
    }
  });

  it("writes package.json with the package name, this version and flyte-agent's dependency versions", async () => {
    const project = await createProject({ name: "bigquery", cwd, template: "sync" });
    const pkg = JSON.parse(await readFile(join(project.dir, "package.json"), "utf8"));
    expect(pkg.name).toBe("flyte-agent-bigquery");
    // Run from this checkout, the project depends on the checkout itself (nothing is published yet):
    // the runtime for the agent and its image, the CLI (with tsx and the testing kit) for development.
    const checkout = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
    expect(pkg.dependencies["@flyte-agent/runtime"]).toBe(`file:${checkout}/packages/runtime`);
    expect(pkg.dependencies["flyte-agent"]).toBeUndefined();
    expect(pkg.devDependencies["flyte-agent"]).toBe(`file:${checkout}`);
    expect(pkg.dependencies.zod).toBe(own.dependencies.zod);
    expect(pkg.devDependencies.typescript).toBe(own.devDependencies.typescript);
    expect(pkg.flyteAgent.modules).toEqual(["./dist/agent.js"]);
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(["build", "test", "serve", "run"]));
  });

  it("takes a dependency spec, a directory and name overrides", async () => {
    const project = await createProject({
      name: "s3-ready",
      cwd,
      template: "sensor",
      dir: "agents/s3",
      packageName: "@acme/s3-sensor",
      className: "S3ReadySensor",
      flyteAgentSpec: "file:../flyte-agent.tgz",
      runtimeSpec: "file:../flyte-agent-runtime.tgz",
    });
    expect(project.dir).toBe(join(cwd, "agents/s3"));
    const pkg = JSON.parse(await readFile(join(project.dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "@acme/s3-sensor",
      dependencies: { "@flyte-agent/runtime": "file:../flyte-agent-runtime.tgz" },
      devDependencies: { "flyte-agent": "file:../flyte-agent.tgz" },
    });
    expect(await readFile(join(project.dir, "src/agent.ts"), "utf8")).toContain(
      "class S3ReadySensor extends SensorBase",
    );
    expect(project.nextSteps).toEqual([
      "cd agents/s3",
      "npm install",
      "npm test",
      "npm run run",
      "npm run serve",
    ]);
  });

  it("names a sensor <Name>Sensor with the sensor engine's task type", async () => {
    const project = await createProject({ name: "s3-ready", cwd, template: "sensor" });
    expect(project.names).toMatchObject({ className: "S3ReadySensor", taskType: "sensor" });
    const agent = await readFile(join(project.dir, "src/agent.ts"), "utf8");
    expect(agent).toContain('static readonly sensorName = "S3ReadySensor"');
    expect(await readFile(join(project.dir, "src/task.ts"), "utf8")).toContain('name: "s3_ready.wait"');
    await expect(
      createProject({ name: "other", cwd, template: "sensor", taskType: "files" }),
    ).rejects.toThrow(/a sensor's task type is always "sensor"/);
  });

  it("writes the scripts, next steps and Dockerfile for the chosen package manager", async () => {
    const project = await createProject({ name: "x", cwd, packageManager: "pnpm" });
    const pkg = JSON.parse(await readFile(join(project.dir, "package.json"), "utf8"));
    expect(pkg.scripts.serve).toBe("pnpm run build && flyte-agent-serve agent");
    expect(JSON.stringify(pkg.scripts)).not.toMatch(/\bnpm run/);
    const dockerfile = await readFile(join(project.dir, "Dockerfile"), "utf8");
    expect(dockerfile).toContain("COPY package.json pnpm-lock.yaml ./");
    expect(dockerfile).toContain("RUN pnpm install --frozen-lockfile --prod");
    expect(dockerfile).not.toMatch(/\bnpm /);
    expect(project.nextSteps).toEqual([
      "cd x",
      "pnpm install",
      "pnpm test",
      "pnpm run run",
      "pnpm run serve",
    ]);
  });

  it("refuses a non-empty directory unless forced, and keeps the files it does not replace", async () => {
    await mkdir(join(cwd, "taken"));
    await writeFile(join(cwd, "taken", "notes.txt"), "mine");
    await expect(createProject({ name: "taken", cwd })).rejects.toThrow(/taken is not empty: .*--force/);
    await createProject({ name: "taken", cwd, force: true });
    expect(await readFile(join(cwd, "taken", "notes.txt"), "utf8")).toBe("mine");
    expect(await readFile(join(cwd, "taken", "src/agent.ts"), "utf8")).toContain("TakenAgent");
  });

  it("writes into an empty directory that already exists", async () => {
    await mkdir(join(cwd, "empty"));
    await expect(createProject({ name: "empty", cwd })).resolves.toMatchObject({ dir: join(cwd, "empty") });
  });

  it("refuses an unknown template and an invalid name before writing anything", async () => {
    await expect(createProject({ name: "x", cwd, template: "cron" as never })).rejects.toThrow(
      /unknown template "cron": choose one of async, sync, sensor/,
    );
    await expect(createProject({ name: "../x", cwd })).rejects.toThrow(/not a valid agent name/);
    await expect(createProject({ name: "x", cwd, packageManager: "pip" as never })).rejects.toThrow(
      /package manager/,
    );
    await expect(readFile(join(cwd, "x", "package.json"))).rejects.toThrow(/ENOENT/);
  });
});
