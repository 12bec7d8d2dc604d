// `flyte-agent python`: the generated package compiles, declares what the TypeScript tasks declare
// (read back with Python's ast), and its gRPC client runs tasks on a real agent server. flytekit is
// not installable here, so the flytekit-facing parts (PythonTask subclasses, the mixin's execute) are
// compiled and inspected but not executed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRegistry } from "../../packages/runtime/src/core/registry.js";
import { LiteralMap } from "../../packages/runtime/src/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "../../packages/runtime/src/gen/flyteidl/core/tasks.js";
import { generatePythonPackage, writePythonPackage } from "../../src/python/index.js";
import { serve, type RunningAgentServer } from "../../packages/runtime/src/server/index.js";
import type { TaskDefinition } from "../../packages/runtime/src/task/define-task.js";
import {
  compilePythonProtos,
  compilePythonServiceStubs,
  grpcStubsSkipReason,
  python,
  pythonSkipReason,
} from "../python/python-protos.js";
import {
  type DoublerAgent,
  doubler,
  everyType,
  greeter,
  registerAgents,
  unserved,
} from "./fixtures/tasks.js";
import { runCliInProcess } from "../support/cli-in-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "bin/flyte-agent.js");
const tasks = [everyType, doubler, greeter, unserved] as TaskDefinition[];

interface Declared {
  type: string;
  default: string | null;
}
interface Inspected {
  all: string[];
  tasks: Record<
    string,
    {
      bases: string[];
      docstring: string;
      _TASK_TYPE: string;
      _TASK_TYPE_VERSION: number;
      _INPUTS: Record<string, Declared>;
      _OUTPUTS: Record<string, Declared>;
      _CONFIG_KEYS: Record<string, string>;
      _DOCSTRING: string;
      init_args: string[];
      init_kwonly: Record<string, Declared>;
      methods: string[];
    }
  >;
  dataclasses: Record<string, Record<string, Declared>>;
  enums: Record<string, Record<string, string>>;
}

function generate(dir: string) {
  const files = generatePythonPackage(tasks, { packageName: "acme_agents", source: "tasks.ts" });
  for (const f of files) {
    execFileSync("mkdir", ["-p", join(dir, f.path, "..")]);
    writeFileSync(join(dir, f.path), f.contents);
  }
  return files;
}

describe.skipIf(pythonSkipReason)("the generated Python package", () => {
  let dir = "";
  let inspected: Inspected;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "py-package-"));
    generate(dir);
    inspected = JSON.parse(
      execFileSync(python!, [join(root, "test/python/inspect_tasks.py"), join(dir, "acme_agents/tasks.py")], {
        encoding: "utf8",
      }),
    ) as Inspected;
  });

  it("compiles (python3 -m py_compile), every file", () => {
    const files = readdirSync(join(dir, "acme_agents")).filter((f) => f.endsWith(".py"));
    expect(files.sort()).toEqual(["__init__.py", "_client.py", "_mixin.py", "tasks.py"]);
    for (const f of files) execFileSync(python!, ["-m", "py_compile", join(dir, "acme_agents", f)]);
    expect(readFileSync(join(dir, "pyproject.toml"), "utf8")).toMatch(
      /name = "acme_agents"[\s\S]*flytekit>=1\.16\.0/,
    );
  });

  it("declares one PythonTask class per TypeScript task, with its task type, version, interface and config keys", () => {
    const byClass = {
      EveryTypeTask: everyType,
      DoubleTask: doubler,
      GreetTask: greeter,
      UnservedTask: unserved,
    } as Record<string, TaskDefinition>;
    expect(inspected.all.sort()).toEqual(Object.keys(byClass).sort());
    for (const [cls, task] of Object.entries(byClass)) {
      const c = inspected.tasks[cls]!;
      expect(c.bases).toEqual(["FlyteAgentExecutorMixin", "PythonTask"]);
      expect(c._TASK_TYPE).toBe(task.taskType);
      expect(c._TASK_TYPE_VERSION).toBe(task.taskTypeVersion);
      expect(Object.keys(c._INPUTS).sort()).toEqual(Object.keys(task.inputs).sort());
      expect(Object.keys(c._OUTPUTS).sort()).toEqual(Object.keys(task.outputs).sort());
      expect(Object.values(c._CONFIG_KEYS).sort()).toEqual(Object.keys(task.config).sort());
      // Every config key is a keyword-only constructor argument, mapped back by _CONFIG_KEYS.
      expect(Object.keys(c.init_kwonly).sort()).toEqual(Object.keys(c._CONFIG_KEYS).sort());
      expect(c.init_args).toEqual(["self", "name"]);
      expect(c.methods).toEqual(["__init__", "get_custom"]);
    }
  });

  it("maps each Flyte type to the Python type flytekit's type engine maps to it", () => {
    const inputs = inspected.tasks.EveryTypeTask!._INPUTS;
    const types = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.type]));
    expect(types).toEqual({
      count: "int",
      big: "int",
      ratio: "float",
      label: "str",
      flag: "bool",
      day: "datetime.datetime",
      wait: "datetime.timedelta",
      color: "EveryTypeColor",
      tags: "typing.List[str]",
      weights: "typing.Dict[str, float]",
      point: "EveryTypePoint",
      maybe: "typing.Optional[int]",
      either: "typing.Union[int, str]",
      limit: "int",
      report: "FlyteFile['csv']",
      folder: "FlyteDirectory",
      table: "typing.Annotated[StructuredDataset, kwtypes(id=int, name=str), 'parquet']",
    });
    expect(inputs.limit!.default).toBe("100");
    expect(inputs.maybe!.default).toBe("None");
    expect(inputs.count!.default).toBeNull();
    expect(inspected.enums.EveryTypeColor).toEqual({ RED: "red", DARK_GREEN: "dark-green", V_3D: "3d" });
    // Object schemas become dataclasses; fields with defaults come last, as dataclasses require.
    expect(inspected.dataclasses.EveryTypePoint).toEqual({
      x: { type: "float", default: null },
      y: { type: "float", default: null },
      label: { type: "typing.Optional[str]", default: "None" },
      tags: { type: "typing.List[str]", default: "dataclass_field(default_factory=lambda: [])" },
    });
    expect(inspected.dataclasses.EveryTypeSummaryOutput).toEqual({ total: { type: "float", default: null } });
  });

  it("makes the config typed keyword arguments with the TypeScript defaults, Python-named", () => {
    const c = inspected.tasks.EveryTypeTask!;
    expect(c._CONFIG_KEYS).toEqual({
      warehouse: "warehouse",
      max_rows: "maxRows",
      ratio: "ratio",
      dry_run: "dryRun",
      from_: "from",
      name_: "name",
      regions: "regions",
      extra: "extra",
    });
    expect(c.init_kwonly).toEqual({
      warehouse: { type: "str", default: "'analytics'" },
      max_rows: { type: "int", default: "10" },
      ratio: { type: "float", default: "0.5" },
      dry_run: { type: "bool", default: "False" },
      from_: { type: "str", default: "'x'" },
      name_: { type: "str", default: "'n'" },
      regions: { type: "typing.Optional[typing.List[str]]", default: "None" },
      extra: { type: "typing.Optional[typing.Dict[str, typing.Any]]", default: "None" },
    });
  });

  it("carries the descriptions into docstrings and flytekit's :param lines", () => {
    const c = inspected.tasks.EveryTypeTask!;
    expect(c.docstring).toContain(
      'Takes one input of each Flyte type. Quotes """ and \\ backslashes survive.',
    );
    expect(c.docstring).toContain("Task type ``acme_query`` version 2");
    expect(c.docstring).toContain("count (int): an int");
    expect(c._DOCSTRING).toContain(":param count: an int\n:param ratio: a float");
  });
});

describe.skipIf(grpcStubsSkipReason)("the generated client against a running agent server", () => {
  let running: RunningAgentServer;
  let doublerAgent: DoublerAgent;
  let generated = "";
  let dir = "";

  beforeAll(async () => {
    generated = compilePythonProtos();
    compilePythonServiceStubs(generated);
    dir = mkdtempSync(join(tmpdir(), "py-client-"));
    generate(dir);
    const registry = new AgentRegistry();
    doublerAgent = registerAgents(registry);
    running = await serve({
      registry,
      host: "127.0.0.1",
      port: 0,
      prometheusPort: false,
      discover: false,
      handleSignals: false,
      banner: false,
      logLevel: "error",
    });
  });
  afterAll(async () => {
    await running?.stop();
  });

  async function runClient(
    task: TaskDefinition,
    inputs: Record<string, unknown>,
    env: Record<string, string> = {},
    extra: string[] = [],
  ) {
    const work = mkdtempSync(join(dir, "run-"));
    writeFileSync(join(work, "template.pb"), TaskTemplate.encode(task.template()).finish());
    writeFileSync(join(work, "inputs.pb"), LiteralMap.encode(task.encodeInputs(inputs)).finish());
    const { stdout } = await execa(
      python!,
      [
        join(root, "test/python/run_client.py"),
        generated,
        join(dir, "acme_agents/_client.py"),
        join(work, "template.pb"),
        join(work, "inputs.pb"),
        work,
        ...extra,
      ],
      { env: { FLYTE_AGENT_ENDPOINT: running.address, ...env }, extendEnv: false },
    );
    const r = JSON.parse(stdout) as { outputs?: string | null; error?: string };
    return {
      outputs: r.outputs ? task.decodeOutputs(LiteralMap.decode(Buffer.from(r.outputs, "hex"))) : undefined,
      error: r.error,
    };
  }

  it("runs an async task (CreateTask, GetTask) and a sync task (ExecuteTaskSync), as ListAgents says", async () => {
    expect(await runClient(doubler, { n: 21 })).toEqual({ outputs: { doubled: 42 }, error: undefined });
    expect(await runClient(greeter, { who: "flyte" })).toEqual({
      outputs: { greeting: "hello flyte" },
      error: undefined,
    });
  });

  it("deletes the task when interrupted while it runs, as flytekit's connector_signal_handler does", async () => {
    expect(await runClient(doubler, { n: 5, hold: true }, {}, ["interrupt"])).toEqual({
      outputs: undefined,
      error: "interrupted",
    });
    expect(doublerAgent.deleted).toEqual([5]);
  });

  it("raises FlyteAgentError for a failed task, an unserved task type and a missing endpoint", async () => {
    expect((await runClient(doubler, { n: 2, fail: true })).error).toBe(
      "task acme.jobs.double ended FAILED: refused to double 2",
    );
    expect((await runClient(unserved, {})).error).toBe(
      `the agent server at ${running.address} serves no nobody_serves_this_v0 tasks (it serves py_async_v0, py_sync_v0)`,
    );
    expect((await runClient(doubler, { n: 1 }, { FLYTE_AGENT_ENDPOINT: "" })).error).toMatch(
      /^set FLYTE_AGENT_ENDPOINT to the host:port of a running `flyte-agent serve agent`/,
    );
  });
});

describe("flyte-agent python", () => {
  it("writes the package, then --check passes; after an edit --check fails with exit 1", async () => {
    const out = mkdtempSync(join(tmpdir(), "py-cli-"));
    const fixture = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));
    const args = ["python", fixture, "--out", out, "--package", "acme_agents"];
    // The binary once (the smoke test), then the CLI's main in-process.
    const first = await execa("node", [bin, ...args], { reject: false, cwd: root });
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("wrote 5 of 5 files");
    const ok = await runCliInProcess([...args, "--check"], { cwd: root });
    expect(ok.exitCode).toBe(0);
    writeFileSync(join(out, "acme_agents/tasks.py"), "# edited\n");
    const stale = await runCliInProcess([...args, "--check"], { cwd: root });
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toMatch(/is out of date \(acme_agents\/tasks\.py\): run flyte-agent python/);
    expect(readFileSync(join(out, "acme_agents/tasks.py"), "utf8")).toBe("# edited\n");
  });
});

describe("generatePythonPackage and writePythonPackage", () => {
  it("refuses a package name Python cannot import, and two tasks that would be one class", () => {
    expect(() => generatePythonPackage(tasks, { packageName: "acme-agents" })).toThrow(
      '--package must be a Python import name (letters, digits, _), got "acme-agents"',
    );
    expect(() =>
      generatePythonPackage([doubler, { ...doubler, name: "other.double" }], { packageName: "p" }),
    ).toThrow(
      "tasks acme.jobs.double and other.double would both be the Python class DoubleTask: rename one",
    );
  });

  it("reports only the files that changed", async () => {
    const out = mkdtempSync(join(tmpdir(), "py-write-"));
    const files = [
      { path: "a/x.py", contents: "x = 1\n" },
      { path: "b.toml", contents: "y\n" },
    ];
    expect((await writePythonPackage(files, out)).changed).toEqual(["a/x.py", "b.toml"]);
    writeFileSync(join(out, "b.toml"), "z\n");
    expect((await writePythonPackage(files, out, { check: true })).changed).toEqual(["b.toml"]);
    expect(readFileSync(join(out, "b.toml"), "utf8")).toBe("z\n");
    expect((await writePythonPackage(files, out)).changed).toEqual(["b.toml"]);
  });
});
