// `flyte-agent run` of tasks declared in Python. The task files are written by Python with protobuf
// classes protoc compiled from @flyteorg/flyteidl, laid out as flytekit 1.16.5 lays them out
// (test/python/task_specs.py cites where), then run through run's loading and the executor against an
// in-process agent; one smoke test drives the real binary.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { buildInputs } from "../../src/cli/render/task-inputs.js";
import { describeTemplateInputs, loadTaskSpecRun } from "../../src/cli/task-spec-run.js";
import { AgentRegistry } from "../../packages/runtime/src/core/registry.js";
import { executeTask } from "../../src/executor/execute-task.js";
import { LiteralMap } from "../../packages/runtime/src/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "../../packages/runtime/src/gen/flyteidl/core/tasks.js";
import { AgentServer } from "../../packages/runtime/src/server/server.js";
import { loadTaskSpecFile } from "../../src/task/load-task-spec.js";
import { compilePythonProtos, python, pythonSkipReason } from "../python/python-protos.js";
import "./fixtures/warehouse-agent.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "bin/flyte-agent.js");
const agentModule = fileURLToPath(new URL("./fixtures/warehouse-agent.ts", import.meta.url));

let dir = "";
let pythonTemplate: TaskTemplate;
let pythonInputs: Buffer;
const at = (f: string) => join(dir, f);

beforeAll(() => {
  if (pythonSkipReason) return;
  const generated = compilePythonProtos([
    "flyteidl/core/compiler.proto",
    "flyteidl/admin/task.proto",
    "flyteidl/admin/description_entity.proto",
    "flyteidl/admin/common.proto",
    "flyteidl/admin/workflow.proto",
  ]);
  dir = mkdtempSync(join(tmpdir(), "task-spec-"));
  const out = execFileSync(python!, [join(root, "test/python/task_specs.py"), generated, dir], {
    encoding: "utf8",
  });
  const printed = JSON.parse(out) as { template_bytes: string; inputs_bytes: string };
  pythonTemplate = TaskTemplate.decode(Buffer.from(printed.template_bytes, "hex"));
  pythonInputs = Buffer.from(printed.inputs_bytes, "hex");
  // flytectl -o yaml is its JSON put through sigs.k8s.io/yaml JSONToYAML (flytectl/pkg/printer/printer.go).
  writeFileSync(at("flytectl.yaml"), toYaml(JSON.parse(readFileSync(at("flytectl.json"), "utf8"))));
  writeFileSync(
    at("inputs.json"),
    JSON.stringify({ day: "2026-11-20T00:00:00Z", limit: 4, tags: ["x", "y"], mode: "fast" }),
  );
});

// The executor takes a target: the loaded agents are served on a loopback port, as `run` does.
let server: AgentServer | undefined;
afterAll(async () => {
  await server?.shutdown(1_000);
});

const flagsFor = (modules: string[] = []) => ({ modules, inProcess: true, help: false });

async function runSpec(file: string, task: string | undefined, tokens: string[]) {
  const spec = await loadTaskSpecRun(at(file), task, tokens, flagsFor());
  server ??= await AgentServer.start({ host: "127.0.0.1", port: 0, registry: AgentRegistry.default });
  const result = await executeTask({
    endpoint: server.address,
    task: spec.task,
    inputs: spec.inputs ?? buildInputs(spec.task, spec.inputArgs),
    pollIntervalMs: 5,
  });
  const echo = JSON.parse((result.outputs.echo as string | undefined) ?? "{}") as Record<string, unknown>;
  return { result, echo };
}

const json = (t: TaskTemplate) => TaskTemplate.toJSON(t);

describe.skipIf(pythonSkipReason)("run of Python-declared tasks", () => {
  it("lists the tasks of a pyflyte package archive by name, skipping workflows (serialize_helpers.py)", async () => {
    const loaded = await loadTaskSpecFile(at("flyte-package.tgz"));
    const names = loaded.tasks.map((t) => t.name);
    expect(names).toHaveLength(3);
    expect(names).toContain("my_pkg.tasks.query");
    expect(names).toContain("my_pkg.tasks.other");
    // Longer than tar's 100-character name field: Python's tarfile writes a pax header.
    expect(names.find((n) => n.endsWith("_ping"))?.length).toBeGreaterThan(100);
    const query = loaded.tasks.find((t) => t.name === "my_pkg.tasks.query")!;
    expect(query.origin).toBe("0_my_pkg.tasks.query_1.pb");
    expect(query.description).toBe("Totals a day of orders.");
    expect(json(query.template)).toEqual(json(pythonTemplate));
  });

  it("reads the same template from a TaskSpec .pb, a TaskTemplate .pb and flytectl's JSON and YAML", async () => {
    for (const file of ["task.pb", "template.pb", "flytectl.json", "flytectl.yaml"]) {
      const [entry] = (await loadTaskSpecFile(at(file))).tasks;
      expect(json(entry!.template), file).toEqual(json(pythonTemplate));
      // 600s in protobuf JSON: the timeout must survive the JSON forms.
      expect(entry!.template.metadata?.timeout?.seconds, file).toBe(600n);
    }
    const listed = await loadTaskSpecFile(at("flytectl-list.json"));
    expect(listed.tasks.map((t) => t.template.id?.version)).toEqual(["v1", "v0"]);
  });

  it("runs a task from the archive with typed input flags; the agent gets the template as written", async () => {
    const { result, echo } = await runSpec("flyte-package.tgz", "my_pkg.tasks.query", [
      "--day",
      "2026-11-20",
      "--limit",
      "5",
      "--tags",
      '["a","b"]',
    ]);
    expect(result.phase).toBe("SUCCEEDED");
    expect(result.outputs.rows).toBe(10);
    expect(echo).toMatchObject({
      name: "my_pkg.tasks.query",
      version: "v1",
      warehouse: "analytics",
      day: "2026-11-20T00:00:00.000Z",
      tags: ["a", "b"],
      mode: null,
    });
    const received = TaskTemplate.decode(Buffer.from(String(echo.template), "hex"));
    expect(json(received)).toEqual(json(pythonTemplate));
  });

  it("picks a task by the last part of its name, and runs from flytectl's YAML", async () => {
    const { result, echo } = await runSpec("flytectl.yaml", "query", [
      "--day=2026-01-02T03:04:05Z",
      "--limit=1",
      "--tags=[]",
      "--mode",
      "slow",
    ]);
    expect(result.succeeded).toBe(true);
    expect(echo).toMatchObject({ day: "2026-01-02T03:04:05.000Z", mode: "slow", tags: [] });
  });

  it("sends --inputs inputs.pb as Flyte wrote it", async () => {
    const { result, echo } = await runSpec("task.pb", undefined, ["--inputs", at("inputs.pb")]);
    expect(result.outputs.rows).toBe(14);
    const received = LiteralMap.decode(Buffer.from(String(echo.inputs), "hex"));
    expect(LiteralMap.toJSON(received)).toEqual(LiteralMap.toJSON(LiteralMap.decode(pythonInputs)));
  });

  it("reads --inputs inputs.json as values by input name", async () => {
    const { result, echo } = await runSpec("flytectl.json", undefined, [`--inputs=${at("inputs.json")}`]);
    expect(result.outputs.rows).toBe(8);
    expect(echo).toMatchObject({ day: "2026-11-20T00:00:00.000Z", tags: ["x", "y"], mode: "fast" });
  });

  it("lists the inputs with their Flyte types for --help", async () => {
    const spec = await loadTaskSpecRun(at("flyte-package.tgz"), "my_pkg.tasks.query", [], {
      modules: [],
      inProcess: true,
      help: true,
    });
    const help = describeTemplateInputs(spec.task);
    expect(help).toContain("Task my_pkg.tasks.query (type warehouse_query v1)");
    expect(help).toContain("Totals a day of orders.");
    expect(help).toContain("--day <DATETIME>  required  the day to total");
    expect(help).toContain("--tags <collection(STRING)>  required  labels");
    expect(help).toContain("--mode <union(STRING | NONE)>  optional");
    expect(help).toContain("--version <union(INTEGER | NONE)>  optional  schema version");
    expect(help).toContain("--inputs <inputs.pb|inputs.json|inputs.yaml>");
  });

  describe("bad input: one sentence, exit code 2", () => {
    const fails = async (file: string, task: string | undefined, tokens: string[] = []) => {
      let error: unknown;
      try {
        const spec = await loadTaskSpecRun(file.startsWith("/") ? file : at(file), task, tokens, flagsFor());
        if (!spec.inputs) buildInputs(spec.task, spec.inputArgs);
      } catch (err) {
        error = err;
      }
      expect(error, `${file} ${task ?? ""} ${tokens.join(" ")}`).toBeInstanceOf(Error);
      const e = error as Error & { code?: string; exitCode?: number };
      // INVALID_CONFIG and UsageError are what cli/main.ts turns into exit code 2.
      expect(e.code === "INVALID_CONFIG" || e.exitCode === 2, e.message).toBe(true);
      expect(e.message).not.toContain("\n");
      return e.message;
    };

    it("an archive without tasks says what it holds", async () => {
      expect(await fails("workflows-only.tgz", undefined)).toMatch(
        /workflows-only\.tgz holds no task .*0_my_pkg\.wf\.main_2\.pb/,
      );
    });

    it("a task name that is not there lists the tasks there are; no name with several lists them too", async () => {
      expect(await fails("flyte-package.tgz", "nope")).toMatch(
        /no task named "nope" in flyte-package\.tgz; it holds: .*my_pkg\.tasks\.query.*my_pkg\.tasks\.other/,
      );
      expect(await fails("flyte-package.tgz", undefined)).toMatch(/holds 3 tasks; name one of: /);
    });

    it("a task type no loaded agent serves names the types that are served", async () => {
      expect(await fails("other.pb", undefined)).toBe(
        "no loaded agent serves task type bigquery_query_job_task_v0 of my_pkg.tasks.other; the loaded agents serve warehouse_query_v1",
      );
    });

    it("malformed .pb, JSON, YAML and archives", async () => {
      const bad = mkdtempSync(join(tmpdir(), "task-spec-bad-"));
      writeFileSync(join(bad, "junk.pb"), Buffer.from([0xff, 0xff, 0xff, 0x0f]));
      writeFileSync(join(bad, "literal.pb"), LiteralMap.encode({ literals: {} }).finish());
      writeFileSync(join(bad, "broken.json"), '{"closure": ');
      writeFileSync(join(bad, "empty.json"), '{"closure": {}}');
      writeFileSync(join(bad, "broken.yaml"), "a: [b\n");
      writeFileSync(join(bad, "junk.tgz"), Buffer.from("not an archive at all"));
      expect(await fails(join(bad, "junk.pb"), undefined)).toMatch(
        /junk\.pb is not a .*TaskSpec or TaskTemplate/,
      );
      expect(await fails(join(bad, "literal.pb"), undefined)).toMatch(
        /not a protobuf TaskSpec or TaskTemplate/,
      );
      expect(await fails(join(bad, "broken.json"), undefined)).toMatch(/broken\.json is not valid JSON/);
      expect(await fails(join(bad, "empty.json"), undefined)).toMatch(/empty\.json holds no task template/);
      expect(await fails(join(bad, "broken.yaml"), undefined)).toMatch(/broken\.yaml is not valid YAML/);
      expect(await fails(join(bad, "junk.tgz"), undefined)).toMatch(
        /junk\.tgz is not a pyflyte package archive/,
      );
      expect(await fails(join(bad, "missing.tgz"), undefined)).toMatch(/cannot read .*missing\.tgz/);
    });

    it("inputs that do not match the interface", async () => {
      const name = "my_pkg.tasks.query";
      expect(
        await fails("flyte-package.tgz", name, ["--day", "2026-11-20", "--limit", "x", "--tags", "[]"]),
      ).toMatch(/bad value for --limit \(int\)/);
      expect(await fails("flyte-package.tgz", name, ["--bogus", "1"])).toMatch(/unknown option --bogus/);
      expect(await fails("flyte-package.tgz", name, ["--limit", "1", "--tags", "[]"])).toMatch(
        /missing input --day/,
      );
      const extra = join(dir, "extra.json");
      writeFileSync(extra, JSON.stringify({ day: "2026-11-20", limit: 1, tags: [], speed: 3 }));
      expect(await fails("flyte-package.tgz", name, ["--inputs", extra])).toMatch(
        /has "speed", which task my_pkg\.tasks\.query does not take/,
      );
      const partial = join(dir, "partial.pb");
      writeFileSync(partial, LiteralMap.encode({ literals: {} }).finish());
      expect(await fails("flyte-package.tgz", name, ["--inputs", partial])).toMatch(
        /partial\.pb lacks input day, limit, tags of task my_pkg\.tasks\.query/,
      );
      expect(await fails("flyte-package.tgz", name, ["--inputs", extra, "--limit", "2"])).toMatch(
        /either with --inputs <file> or as --<input> flags/,
      );
    });
  });

  it("flyte-agent run runs a task from a pyflyte package archive (real binary)", async () => {
    const r = await execa(
      "node",
      [
        bin,
        "run",
        at("flyte-package.tgz"),
        "my_pkg.tasks.query",
        "--modules",
        agentModule,
        "--day",
        "2026-11-20",
        "--limit",
        "3",
        "--tags",
        '["z"]',
        // An input named like the root --version flag is the task's (flyte-agent's own is not taken).
        "--version",
        "10",
        "--json",
      ],
      { reject: false, cwd: root },
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
      phase: string;
      outputs: { rows: number; echo: string };
    };
    expect(result.phase).toBe("SUCCEEDED");
    expect(result.outputs.rows).toBe(6);
    expect(JSON.parse(result.outputs.echo)).toMatchObject({ schemaVersion: 10 });

    const wrong = await execa("node", [bin, "run", at("flyte-package.tgz"), "nope"], {
      reject: false,
      cwd: root,
    });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^error: no task named "nope" in flyte-package\.tgz; it holds: /);
  });
});
