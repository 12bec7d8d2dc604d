import { execa } from "execa";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

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

  it.each([["new"], ["serve", "agent"], ["serve", "connector"], ["run"], ["deploy"], ["conformance"]])(
    "%s --help shows examples",
    async (...command) => {
      const r = await execa("node", [bin, ...command, "--help"]);
      const examples = r.stdout.split("Examples:\n")[1];
      expect(examples).toBeDefined();
      expect(examples).toMatch(new RegExp(`^ {2}flyte-agent ${command[0]} `, "m"));
    },
  );

  it("exits 2 with a one-line hint on an unknown command", async () => {
    const r = await execa("node", [bin, "frobnicate"], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
