import type { Command } from "commander";
import { CliError, UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";

/** Flags of `flyte-agent python`. */
interface PythonFlags {
  out: string;
  package?: string;
  modules: string[];
  check?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(",").filter(Boolean)];

async function defaultPackageName(cwd: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const path = await import("node:path");
  const { pythonPackageName } = await import("../../python/index.js");
  try {
    const pkg = JSON.parse(await readFile(path.join(cwd, "package.json"), "utf8")) as { name?: unknown };
    if (typeof pkg.name === "string" && pkg.name) return pythonPackageName(pkg.name);
  } catch {
    // no package.json: name it after the directory
  }
  return pythonPackageName(path.basename(cwd));
}

/** Registers `flyte-agent python`. */
export function register(program: Command): void {
  program
    .command("python")
    .summary("write the flytekit task classes (a Python package) for the project's TypeScript tasks")
    .description(
      "Writes a Python package with one flytekit task class per task that <task-file> exports (task type " +
        "and version, typed interface, the config as typed keyword arguments, docstrings), so a workflow " +
        "author imports the task instead of re-declaring it. Run locally (pyflyte run), the tasks call the " +
        "agent server at $FLYTE_AGENT_ENDPOINT (flyte-agent serve agent); on a cluster, FlytePropeller " +
        "sends them to the agent.\n\n" +
        "With --check nothing is written: it fails (exit 1) when the package is missing or out of date.\n\n" +
        "Examples:\n" +
        "  flyte-agent python src/task.ts --out python --package acme_agents\n" +
        "  flyte-agent python src/task.ts --out python --package acme_agents --check",
    )
    .argument("<task-file>", "a TypeScript or JavaScript file exporting tasks made with defineTask")
    .option("-o, --out <dir>", "where the package goes (pyproject.toml and <package>/)", "python")
    .option("--package <name>", "the Python import name (default: <project name>_agents)")
    .option(
      "--modules <paths>",
      "modules to import first (agent registrations), comma-separated",
      collect,
      [],
    )
    .option("--check", "write nothing; exit 1 when the generated files are missing or differ")
    .action(async (file: string, flags: PythonFlags) => {
      const path = await import("node:path");
      const { loadTaskFile } = await import("../../executor/load-task-file.js");
      const { generatePythonPackage, writePythonPackage } = await import("../../python/index.js");
      const cwd = process.cwd();
      const loaded = await loadTaskFile(file, { modules: flags.modules });
      const packageName = flags.package ?? (await defaultPackageName(cwd));
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(packageName))
        throw new UsageError(
          `--package must be a Python import name (letters, digits, _), got "${packageName}"`,
        );
      const files = generatePythonPackage([...loaded.tasks.values()], {
        packageName,
        source: path.relative(cwd, loaded.path).split("\\").join("/"),
      });
      const outDir = path.resolve(cwd, flags.out);
      const { changed } = await writePythonPackage(files, outDir, { check: flags.check === true });
      const shown = path.relative(cwd, outDir) || ".";
      if (flags.check) {
        if (changed.length > 0) {
          throw new CliError(
            `the Python package in ${shown} is out of date (${changed.join(", ")}): run flyte-agent python ${file} --out ${flags.out} --package ${packageName}`,
          );
        }
        process.stdout.write(`${shown}: up to date (${files.length} files)\n`);
        return;
      }
      process.stdout.write(
        changed.length > 0
          ? `wrote ${changed.length} of ${files.length} files in ${shown} (package ${packageName})\n`
          : `${shown}: up to date (${files.length} files)\n`,
      );
    });
}
