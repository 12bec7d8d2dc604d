import type { Command } from "commander";
import { CliError } from "../errors.js";

/** Registers `flyte-agent serve`. */
export function register(program: Command): void {
  program
    .command("serve")
    .description("(coming in this release)")
    .action(() => {
      throw new CliError("`flyte-agent serve` is not available in this build yet");
    });
}
