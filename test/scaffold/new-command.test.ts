import { execa } from "execa";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveNewOptions } from "../../src/cli/commands/new.js";
import { runCliInProcess } from "../support/cli-in-process.js";

const bin = new URL("../../bin/flyte-agent.js", import.meta.url).pathname;

describe("flyte-agent new", () => {
  let cwd = "";
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), "flyte-agent-new-cli-"));
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });
  // The binary for the smoke test; the CLI's main in-process for the rest (this process's stdin is
  // no terminal either, so nothing is asked).
  const runBinary = (...args: string[]) =>
    execa("node", [bin, "new", ...args], { cwd, reject: false, stdin: "ignore" });
  const run = (...args: string[]) => runCliInProcess(["new", ...args], { cwd });

  it("is not on a terminal here, as the in-process runs assume", () => {
    expect(process.stdin.isTTY).not.toBe(true);
  });

  it("creates a project without asking anything when not on a terminal, and prints the next steps", async () => {
    const r = await runBinary("bigquery", "--template", "sync");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("Created flyte-agent-bigquery (sync template)");
    expect(r.stdout).toContain("task type bigquery, class BigqueryAgent");
    expect(r.stdout).toMatch(/Next steps:\n {2}cd bigquery\n {2}npm install\n {2}npm test\n/);
    const pkg = JSON.parse(await readFile(join(cwd, "bigquery", "package.json"), "utf8"));
    expect(pkg.name).toBe("flyte-agent-bigquery");
  });

  it("refuses an invalid name with one sentence and exit code 2", async () => {
    const r = await run("../escape");
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe(
      'error: "../escape" is not a valid agent name: it must not contain "/", "\\" or ".."',
    );
    expect(await readdir(cwd)).not.toContain("escape");
  });

  it("refuses a non-empty directory unless --force is given", async () => {
    await mkdir(join(cwd, "busy"));
    await writeFile(join(cwd, "busy", "keep.txt"), "x");
    const refused = await run("busy");
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^error: busy is not empty: .*--force/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const forced = await run("busy", "--force");
    expect(forced.exitCode).toBe(0);
    expect(await readdir(join(cwd, "busy"))).toEqual(expect.arrayContaining(["keep.txt", "package.json"]));
  });

  it("refuses an unknown template", async () => {
    const r = await run("other", "--template", "cron");
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('error: unknown template "cron": choose one of async, sync, sensor');
  });

  it("asks for the name on a terminal only; elsewhere it says how to give it", async () => {
    const r = await run("--dir", "somewhere");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/missing the agent name: run `flyte-agent new <name>`/);
  });

  it("documents its flags in --help", async () => {
    const r = await run("--help");
    expect(r.exitCode).toBe(0);
    for (const flag of [
      "--template",
      "--dir",
      "--force",
      "--yes",
      "--package-manager",
      "--package-name",
      "--class-name",
    ])
      expect(r.stdout).toContain(flag);
  });
});

describe("resolveNewOptions", () => {
  it("asks for the name and template when a terminal is there to answer", async () => {
    const questions: string[] = [];
    const answers = ["warehouse", "sensor"];
    const options = await resolveNewOptions(undefined, {}, async (q) => {
      questions.push(q);
      return answers.shift() ?? "";
    });
    expect(options).toEqual({ name: "warehouse", template: "sensor" });
    expect(questions).toHaveLength(2);
  });

  it("asks only for what was not given and takes the default on an empty answer", async () => {
    const questions: string[] = [];
    const options = await resolveNewOptions("bq", { force: true }, async (q) => {
      questions.push(q);
      return "";
    });
    expect(options).toEqual({ name: "bq", force: true });
    expect(questions).toEqual(["Template (async | sync | sensor) [async]: "]);
  });

  it("asks before writing into a non-empty directory, and stops on anything but yes", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "flyte-agent-ask-"));
    try {
      await mkdir(join(cwd, "bq"));
      await writeFile(join(cwd, "bq", "x.txt"), "");
      const yes = await resolveNewOptions("bq", { template: "async" }, async () => "y", cwd);
      expect(yes).toEqual({ name: "bq", template: "async", force: true });
      await expect(resolveNewOptions("bq", { template: "async" }, async () => "", cwd)).rejects.toThrow(
        /left bq as it was: nothing written/,
      );
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("re-asks a question whose answer is refused, explaining why, instead of failing at the end", async () => {
    const answers = ["Big Query!", "bigquery", "cron", "sync"];
    const problems: string[] = [];
    const options = await resolveNewOptions(undefined, {}, async (_q, validate) => {
      for (;;) {
        const a = answers.shift()!;
        const problem = validate?.(a);
        if (problem === undefined) return a;
        problems.push(problem);
      }
    });
    expect(options).toEqual({ name: "bigquery", template: "sync" });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/Big Query!/);
    expect(problems[1]).toBe("choose one of async, sync, sensor");
  });

  it("exits 130 on Ctrl-C at a question, on a real terminal, writing nothing", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "flyte-agent-ctrlc-"));
    try {
      // A pseudo-terminal from Python's pty module: the CLI sees a TTY and asks; ^C is sent at the prompt.
      const script = [
        "import os, pty, sys, time",
        "pid, fd = pty.fork()",
        "if pid == 0:",
        "    os.execvp('node', ['node', sys.argv[1], 'new'])",
        "out = b''",
        "while b'Agent name' not in out:",
        "    out += os.read(fd, 1024)",
        "os.write(fd, b'\\x03')",
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
      const r = await execa("python3", ["-c", script, bin], { cwd, reject: false, timeout: 20_000 });
      expect(r.stdout).toMatch(/error: cancelled: nothing was written/);
      expect(r.exitCode).toBe(130);
      expect(await readdir(cwd)).toEqual([]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("asks nothing without a terminal", async () => {
    await expect(resolveNewOptions("bq", { template: "sync", dir: "d" }, undefined)).resolves.toEqual({
      name: "bq",
      template: "sync",
      dir: "d",
    });
  });
});
