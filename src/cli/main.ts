import { Command, CommanderError } from "commander";
import { ErrorCode, isFlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { CliError, ExitCode } from "@flyte-agent/runtime/internal/cli/errors.js";
import { takeExitBackstop } from "@flyte-agent/runtime/internal/cli/exit-backstop.js";
import { guardOutput, outputClosed } from "@flyte-agent/runtime/internal/cli/output.js";
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
 * Runs the CLI with `argv` (as `process.argv`) and resolves to the exit code. This is the only place
 * that turns errors into exit codes, and the only one that exits the process: when a command asked
 * for an exit backstop (a server stopped by a signal), a process still running that long after the
 * command finished is ended. `bin/flyte-agent.js` sets `process.exitCode` from the result.
 */
export async function main(argv: readonly string[]): Promise<number> {
  guardOutput();
  let code: number;
  try {
    const program = await buildProgram(chosenCommand(argv));
    await program.parseAsync([...argv]);
    code = typeof process.exitCode === "number" ? process.exitCode : ExitCode.OK;
  } catch (err) {
    code = outputClosed.aborted ? ExitCode.OUTPUT_CLOSED : reportError(err);
  }
  // Work stopped because nobody reads the output any more: say nothing, as `| head` expects.
  if (outputClosed.aborted && code !== ExitCode.OK) code = ExitCode.OUTPUT_CLOSED;
  const backstop = takeExitBackstop();
  if (backstop) {
    const exitCode = code;
    setTimeout(() => {
      backstop.onExit();
      process.exit(exitCode);
    }, backstop.afterMs).unref();
  }
  return code;
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; they have already been printed. Help asked for
    // (--help, `help`) is a success; help shown because no command was named is a usage error.
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.OK;
    if (err.code === "commander.help" && err.exitCode === 0) return ExitCode.OK;
    return ExitCode.USAGE;
  }
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  if (isFlyteAgentError(err)) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.code === ErrorCode.INVALID_CONFIG ? ExitCode.USAGE : ExitCode.FAILURE;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message}\n`);
  if (process.env.FLYTE_AGENT_DEBUG && err instanceof Error && err.stack)
    process.stderr.write(`${err.stack}\n`);
  return ExitCode.FAILURE;
}
