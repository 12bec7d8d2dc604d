// Each template ships the Python package `flyte-agent python` generates from its src/task.ts, and
// `flyte-agent new` renames it along with the rest: the rendered package must equal what the
// generator makes from the rendered project, or a new project's own drift test would fail.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generatePythonPackage } from "../../src/python/index.js";
import { createProject } from "../../src/scaffold/index.js";
import { isTaskDefinition, type TaskDefinition } from "../../packages/runtime/src/task/define-task.js";
import { python } from "../python/python-protos.js";

const templates = fileURLToPath(new URL("../../templates", import.meta.url));

async function tasksOf(file: string): Promise<TaskDefinition[]> {
  const mod = (await import(file)) as Record<string, unknown>;
  return Object.values(mod).filter(isTaskDefinition);
}

function expectSame(projectDir: string, packageName: string, tasks: TaskDefinition[]) {
  const files = generatePythonPackage(tasks, { packageName, source: "src/task.ts" });
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    expect(readFileSync(join(projectDir, "python", f.path), "utf8"), `${projectDir}: python/${f.path}`).toBe(
      f.contents,
    );
  }
}

describe.each(["async", "sync", "sensor"])("the %s template's Python package", (kind) => {
  it("is what flyte-agent python generates from the template's task", async () => {
    const dir = join(templates, kind);
    expectSame(dir, "starter_name_agents", await tasksOf(join(dir, "src/task.ts")));
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.python).toBe(
      "flyte-agent python src/task.ts --out python --package starter_name_agents",
    );
  });

  it.skipIf(!python)("compiles, with its example workflow (python3 -m py_compile)", () => {
    const dir = join(templates, kind, "python");
    const files = [
      "example_workflow.py",
      ...["__init__", "tasks", "_mixin", "_client"].map((m) => `starter_name_agents/${m}.py`),
    ];
    // compile() is what py_compile does, without writing __pycache__ into the template.
    for (const f of files)
      execFileSync(python!, [
        "-B",
        "-c",
        "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
        join(dir, f),
      ]);
    expect(files).toHaveLength(5);
  });

  it("is still up to date in a project made by flyte-agent new", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "py-template-"));
    const created = await createProject({ name: "acme-warehouse", template: kind as "async", cwd });
    const pkg = JSON.parse(readFileSync(join(created.dir, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.python).toBe(
      "flyte-agent python src/task.ts --out python --package acme_warehouse_agents",
    );
    const tasks = await tasksOf(join(created.dir, "src/task.ts"));
    expect(tasks.map((t) => t.name)[0]).toMatch(/^acme_warehouse\./);
    expectSame(created.dir, "acme_warehouse_agents", tasks);
    expect(readFileSync(join(created.dir, "python/example_workflow.py"), "utf8")).toContain(
      "from acme_warehouse_agents import",
    );
  });
});
