import { describe, expect, it } from "vitest";
import { buildProgram, chosenCommand } from "./main.js";

const argv = (...args: string[]) => ["node", "flyte-agent", ...args];

describe("loading only the chosen command", () => {
  it("names the command the first argument chooses, and none for help, options or a typo", () => {
    expect(chosenCommand(argv("run", "task.js", "--n", "1"))).toBe("run");
    expect(chosenCommand(argv("serve", "agent"))).toBe("serve");
    expect(chosenCommand(argv("--help"))).toBeUndefined();
    expect(chosenCommand(argv("-V"))).toBeUndefined();
    expect(chosenCommand(argv("runn"))).toBeUndefined();
    expect(chosenCommand(argv("toString"))).toBeUndefined();
    expect(chosenCommand(argv())).toBeUndefined();
  });

  it("registers one command when one is chosen, every command otherwise", async () => {
    const names = (p: Awaited<ReturnType<typeof buildProgram>>) => p.commands.map((c) => c.name());
    expect(names(await buildProgram("run"))).toEqual(["run"]);
    expect(names(await buildProgram())).toEqual(["new", "serve", "run", "deploy", "conformance", "python"]);
  });
});
