#!/usr/bin/env node
// Entry point of the `flyte-agent` command. The package is built on install (`prepare`), so the CLI
// runs from dist/ and starts without compiling anything.
import { main } from "../dist/cli/main.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
