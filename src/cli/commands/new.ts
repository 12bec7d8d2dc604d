import type { Command } from "commander";
import { readdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { CreateProjectOptions, PackageManager, TemplateKind } from "../../scaffold/index.js";
import { CliError, ExitCode, UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";

/** The flags of `flyte-agent new`, as commander parses them. */
export interface NewFlags {
  template?: string;
  dir?: string;
  force?: boolean;
  yes?: boolean;
  packageManager?: string;
  packageName?: string;
  className?: string;
  taskType?: string;
  flyteAgent?: string;
  runtime?: string;
}

/**
 * Asks one question and resolves to the answer (trimmed); the CLI answers from the terminal. With
 * `validate`, an answer it finds a problem with (a sentence) is refused and the question asked again.
 */
export type Ask = (question: string, validate?: (answer: string) => string | undefined) => Promise<string>;

const TEMPLATES = ["async", "sync", "sensor"];

async function isNonEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

/**
 * Turns the arguments of `flyte-agent new` into scaffold options, asking for what is missing when
 * `ask` is given (only on a terminal, and never with --yes).
 */
export async function resolveNewOptions(
  name: string | undefined,
  flags: NewFlags,
  ask: Ask | undefined,
  cwd = process.cwd(),
): Promise<CreateProjectOptions> {
  let projectName = name;
  let template = flags.template;
  if (projectName === undefined) {
    if (!ask)
      throw new UsageError(
        "missing the agent name: run `flyte-agent new <name>`, e.g. `flyte-agent new bigquery`",
      );
    // Validation is synchronous for the prompt, so the name rules are loaded up front.
    const { resolveProjectNames } = await import("../../scaffold/names.js");
    projectName = await ask("Agent name (e.g. bigquery): ", (answer) => {
      if (answer === "") return "type a name, e.g. bigquery";
      try {
        resolveProjectNames(answer);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    });
    if (!projectName) throw new UsageError("no agent name given: run `flyte-agent new <name>`");
  }
  if (template === undefined && ask) {
    const answer = await ask(`Template (${TEMPLATES.join(" | ")}) [async]: `, (a) =>
      a === "" || TEMPLATES.includes(a) ? undefined : `choose one of ${TEMPLATES.join(", ")}`,
    );
    template = answer === "" ? undefined : answer;
  }
  if (template !== undefined && !TEMPLATES.includes(template)) {
    throw new UsageError(`unknown template "${template}": choose one of ${TEMPLATES.join(", ")}`);
  }
  let force = flags.force ?? false;
  if (ask && !force && (await isNonEmptyDir(resolve(cwd, flags.dir ?? projectName)))) {
    const answer = await ask(
      `${flags.dir ?? projectName} is not empty. Write the template's files into it? (y/N) `,
      (a) => (a === "" || /^(y(es)?|no?)$/i.test(a) ? undefined : "answer y or n"),
    );
    if (!/^y(es)?$/i.test(answer))
      throw new UsageError(`left ${flags.dir ?? projectName} as it was: nothing written`);
    force = true;
  }
  return {
    name: projectName,
    ...(template ? { template: template as TemplateKind } : {}),
    ...(flags.dir ? { dir: flags.dir } : {}),
    ...(force ? { force: true } : {}),
    ...(flags.packageManager ? { packageManager: flags.packageManager as PackageManager } : {}),
    ...(flags.packageName ? { packageName: flags.packageName } : {}),
    ...(flags.className ? { className: flags.className } : {}),
    ...(flags.taskType ? { taskType: flags.taskType } : {}),
    ...(flags.flyteAgent ? { flyteAgentSpec: flags.flyteAgent } : {}),
    ...(flags.runtime ? { runtimeSpec: flags.runtime } : {}),
  };
}

async function terminalAsk(): Promise<{ ask: Ask; close(): void }> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Ctrl-C (or Ctrl-D) at a question cancels the command like Ctrl-C anywhere else: exit 130.
  const cancelled = new AbortController();
  rl.on("SIGINT", () => cancelled.abort());
  rl.on("close", () => cancelled.abort());
  const ask: Ask = async (question, validate) => {
    for (;;) {
      let answer: string;
      try {
        answer = (await rl.question(question, { signal: cancelled.signal })).trim();
      } catch {
        process.stdout.write("\n");
        throw new CliError("cancelled: nothing was written", ExitCode.INTERRUPTED);
      }
      const problem = validate?.(answer);
      if (problem === undefined) return answer;
      // Re-ask instead of failing at the end: the answer so far is kept, the bad one explained.
      process.stdout.write(`  ${problem}\n`);
    }
  };
  return { ask, close: () => rl.close() };
}

/** Registers `flyte-agent new`. */
export function register(program: Command): void {
  program
    .command("new")
    .description("create an agent project from a template (async, sync or sensor)")
    .argument("[name]", "the agent's name: lowercase words joined by -, _ or . (e.g. bigquery)")
    .option("-t, --template <kind>", "async | sync | sensor (default: async)")
    .option("-d, --dir <path>", "where to create the project (default: ./<name>)")
    .option("-f, --force", "write into a non-empty directory, replacing the template's files")
    .option("-y, --yes", "ask nothing: use defaults for what is not given")
    .option(
      "--package-manager <pm>",
      "npm | pnpm | yarn: the scripts, next steps and Dockerfile use it (default: npm)",
    )
    .option("--package-name <name>", "the npm package name (default: flyte-agent-<name>)")
    .option("--class-name <name>", "the agent class (default: <Name>Agent)")
    .option("--task-type <type>", "the task type served (default: the name with - and . as _)")
    .option(
      "--flyte-agent <spec>",
      "the flyte-agent dev dependency to write (default: this checkout or tarball as file:<path>, else ^<version>)",
    )
    .option(
      "--runtime <spec>",
      "the @flyte-agent/runtime dependency to write (default: the runtime this CLI uses, as for --flyte-agent)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  flyte-agent new bigquery\n  flyte-agent new s3-ready --template sensor --dir agents/s3\n",
    )
    .action(async (name: string | undefined, flags: NewFlags) => {
      const interactive = !flags.yes && process.stdin.isTTY && process.stdout.isTTY;
      const terminal = interactive ? await terminalAsk() : undefined;
      let options: CreateProjectOptions;
      try {
        options = await resolveNewOptions(name, flags, terminal?.ask);
      } finally {
        terminal?.close();
      }
      const { createProject } = await import("../../scaffold/index.js");
      const project = await createProject(options);
      const { names } = project;
      process.stdout.write(
        [
          `Created ${names.packageName} (${project.template} template) in ${project.dir}`,
          `  task type ${names.taskType}, class ${names.className}, ${project.files.length} files`,
          "",
          "Next steps:",
          ...project.nextSteps.map((s) => `  ${s}`),
          "",
        ].join("\n"),
      );
    });
}
