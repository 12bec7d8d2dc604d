import { Command, CommanderError } from "commander";
import { ErrorCode, isFlyteAgentError } from "../core/errors.js";
import { CliError, ExitCode } from "./errors.js";
import { takeExitBackstop } from "./exit-backstop.js";
import { packageVersion } from "./version.js";

/** Every command registers itself; their heavy parts are imported only when they run. */
const commands: readonly (() => Promise<{ register(program: Command): void }>)[] = [
  () => import("./commands/new.js"),
  () => import("./commands/serve.js"),
  () => import("./commands/run.js"),
  () => import("./commands/deploy.js"),
  () => import("./commands/conformance.js"),
  () => import("./commands/python.js"),
];

/** Builds the commander program (without running it). */
export async function buildProgram(): Promise<Command> {
  const program = new Command("flyte-agent")
    .description("Write, test, serve and deploy Flyte agents (connectors) in TypeScript.")
    .version(packageVersion, "-V, --version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    // Options after a command name belong to that command: a task input `--version 10` must not be
    // read as the root --version, and `deploy promote --image` must not be taken by `deploy`.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const load of commands) (await load()).register(program);
  return program;
}

/**
 * Runs the CLI with `argv` (as `process.argv`) and resolves to the exit code. This is the only place
 * that turns errors into exit codes, and the only one that exits the process: when a command asked
 * for an exit backstop (a server stopped by a signal), a process still running that long after the
 * command finished is ended. `bin/flyte-agent.js` sets `process.exitCode` from the result.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number;
  try {
    const program = await buildProgram();
    await program.parseAsync([...argv]);
    code = typeof process.exitCode === "number" ? process.exitCode : ExitCode.OK;
  } catch (err) {
    code = reportError(err);
  }
  const backstop = takeExitBackstop();
  if (backstop) {
    setTimeout(() => {
      backstop.onExit();
      process.exit(code);
    }, backstop.afterMs).unref();
  }
  return code;
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; they have already been printed.
    if (
      err.code === "commander.helpDisplayed" ||
      err.code === "commander.version" ||
      err.code === "commander.help"
    ) {
      return ExitCode.OK;
    }
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
