import type { Command } from "commander";
import { CliError } from "../errors.js";

/** Registers `flyte-agent run`. */
export function register(program: Command): void {
  program
    .command("run")
    .description("(coming in this release)")
    .action(() => {
      throw new CliError("`flyte-agent run` is not available in this build yet");
    });
}
