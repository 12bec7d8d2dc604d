#!/usr/bin/env node
// Entry point of the `flyte-agent-serve` command: `flyte-agent serve` alone, for agent images that
// install the runtime without the CLI. It runs from dist/ and starts without compiling anything.
import { serveMain } from "../dist/cli/serve-main.js";

serveMain(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
