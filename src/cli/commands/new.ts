import type { Command } from "commander";
import { CliError } from "../errors.js";

/** Registers `flyte-agent new`. */
export function register(program: Command): void {
  program
    .command("new")
    .description("(coming in this release)")
    .action(() => {
      throw new CliError("`flyte-agent new` is not available in this build yet");
    });
}
