import { Command } from "commander";
import { registerServeCommands } from "./commands/serve.js";
import { runProgram } from "./run-program.js";
import { packageVersion } from "./version.js";

/** Builds the `flyte-agent-serve` program (without running it): `flyte-agent serve` alone. */
export async function buildServeProgram(): Promise<Command> {
  const program = new Command("flyte-agent-serve")
    .description(
      "Serve Flyte agents (connectors) over gRPC for FlytePropeller: `flyte-agent serve` of the flyte-agent CLI, in the runtime package.",
    )
    .version(packageVersion, "-V, --version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerServeCommands(program);
  return program;
}

/**
 * Runs `flyte-agent-serve` with `argv` (as `process.argv`) and resolves to the exit code;
 * `bin/flyte-agent-serve.js` sets `process.exitCode` from it.
 */
export async function serveMain(argv: readonly string[]): Promise<number> {
  return runProgram(buildServeProgram, argv);
}
