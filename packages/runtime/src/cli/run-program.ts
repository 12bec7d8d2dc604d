import { type Command, CommanderError } from "commander";
import { ErrorCode, isFlyteAgentError } from "../core/errors.js";
import { CliError, ExitCode } from "./errors.js";
import { takeExitBackstop } from "./exit-backstop.js";
import { guardOutput, outputClosed } from "./output.js";

/**
 * Runs a commander program with `argv` (as `process.argv`) and resolves to the exit code. This is the
 * only place that turns errors into exit codes, and the only one that exits the process: when a
 * command asked for an exit backstop (a server stopped by a signal), a process still running that long
 * after the command finished is ended. Both commands, `flyte-agent` and `flyte-agent-serve`, run
 * through it; their bin scripts set `process.exitCode` from the result.
 */
export async function runProgram(build: () => Promise<Command>, argv: readonly string[]): Promise<number> {
  guardOutput();
  let code: number;
  try {
    const program = await build();
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
