import type { Command } from "commander";
import { CliError } from "../errors.js";

/** Registers `flyte-agent deploy`. */
export function register(program: Command): void {
  program
    .command("deploy")
    .description("(coming in this release)")
    .action(() => {
      throw new CliError("`flyte-agent deploy` is not available in this build yet");
    });
}
