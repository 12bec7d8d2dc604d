import { Command } from "commander";
import { runProgram } from "@flyte-agent/runtime/internal/cli/run-program.js";
import { packageVersion } from "@flyte-agent/runtime/internal/cli/version.js";

/**
 * Every command registers itself; their heavy parts are imported only when they run. Keyed by the
 * command's name, in the order help lists them.
 */
const commands: Readonly<Record<string, () => Promise<{ register(program: Command): void }>>> = {
  new: () => import("./commands/new.js"),
  serve: () => import("@flyte-agent/runtime/internal/cli/commands/serve.js"),
  run: () => import("./commands/run.js"),
  deploy: () => import("./commands/deploy.js"),
  conformance: () => import("./commands/conformance.js"),
  python: () => import("./commands/python.js"),
};

/**
 * The command `argv` (as `process.argv`) names, when it names one of {@link commands} before any
 * option: then only that command's module is loaded. Anything else (help, --version, a typo) loads
 * them all, so help lists every command and commander can suggest the closest name.
 */
export function chosenCommand(argv: readonly string[]): string | undefined {
  const first = argv[2];
  return first !== undefined && Object.hasOwn(commands, first) ? first : undefined;
}

/**
 * Builds the commander program (without running it): with every command, or only with `only` (a
 * key of the command table) when given.
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command("flyte-agent")
    .description("Write, test, serve and deploy Flyte agents (connectors) in TypeScript.")
    .version(packageVersion, "-V, --version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    // Options after a command name belong to that command: a task input `--version 10` must not be
    // read as the root --version, and `deploy promote --image` must not be taken by `deploy`.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const load = only !== undefined ? commands[only] : undefined;
  if (load) (await load()).register(program);
  else for (const each of Object.values(commands)) (await each()).register(program);
  return program;
}

/**
 * Runs the CLI with `argv` (as `process.argv`) and resolves to the exit code, through the runtime's
 * {@link runProgram} (shared with `flyte-agent-serve`): the one place that turns errors into exit
 * codes and exits the process. `bin/flyte-agent.js` sets `process.exitCode` from the result.
 */
export async function main(argv: readonly string[]): Promise<number> {
  return runProgram(() => buildProgram(chosenCommand(argv)), argv);
}
