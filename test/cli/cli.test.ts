import { execa } from "execa";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";

const bin = new URL("../../bin/flyte-agent.js", import.meta.url).pathname;
const version = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

describe("flyte-agent binary", () => {
  it("prints its version", async () => {
    const r = await execa("node", [bin, "--version"]);
    expect(r.stdout.trim()).toBe(version);
  });

  it("lists its commands in --help", async () => {
    const r = await execa("node", [bin, "--help"]);
    for (const cmd of ["new", "serve", "run", "deploy"])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, "m"));
  });

  // (The CLI's main in-process: the help text is the same, without a Node process per command.)
  it.each([["new"], ["serve", "agent"], ["serve", "connector"], ["run"], ["deploy"], ["conformance"]])(
    "%s --help shows examples",
    async (...command) => {
      const r = await runCliInProcess([...command, "--help"]);
      expect(r.exitCode).toBe(0);
      const examples = r.stdout.split("Examples:\n")[1];
      expect(examples).toBeDefined();
      expect(examples).toMatch(new RegExp(`^ {2}flyte-agent ${command[0]} `, "m"));
    },
  );

  it("serve logs for a person on a terminal (a pty) and JSON lines elsewhere", async () => {
    const args = ["serve", "agent", "--builtin", "sensor", "--host", "127.0.0.1", "--port", "0"];
    // A timeout that passes at once ends each process after its first lines.
    const rest = ["--no-prometheus", "--no-banner", "--timeout", "1ms"];
    const script = [
      "import os, pty, sys",
      "pid, fd = pty.fork()",
      "if pid == 0:",
      "    os.execvp('node', ['node'] + sys.argv[1:])",
      "out = b''",
      "try:",
      "    while True:",
      "        chunk = os.read(fd, 1024)",
      "        if not chunk: break",
      "        out += chunk",
      "except OSError:",
      "    pass",
      "_, status = os.waitpid(pid, 0)",
      "sys.stdout.write(out.decode())",
      "sys.exit(os.waitstatus_to_exitcode(status))",
    ].join("\n");
    const tty = await execa("python3", ["-c", script, bin, ...args, ...rest], {
      reject: false,
      env: { NO_COLOR: "1" },
    });
    expect(tty.exitCode).toBe(0);
    expect(tty.stdout).toMatch(/^\d\d:\d\d:\d\d INFO {2}agent server listening port=\d+ host=127\.0\.0\.1/m);
    expect(tty.stdout).not.toMatch(/^\{"level"/m);
    const piped = await execa("node", [bin, ...args, ...rest], { reject: false });
    expect(piped.exitCode).toBe(0);
    expect(piped.stdout).toMatch(/^\{"level":"info".*"msg":"agent server listening"/m);
  });

  it("exits 2 with a one-line hint on an unknown command", async () => {
    const r = await runCliInProcess(["frobnicate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
