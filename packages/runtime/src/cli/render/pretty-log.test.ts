import { describe, expect, it } from "vitest";
import { prettyLogStream } from "./pretty-log.js";

describe("prettyLogStream", () => {
  it("prints pino JSON lines for a person, with an error's stack under its line", async () => {
    let text = "";
    const s = prettyLogStream({ out: { write: (t: string) => (text += t) }, prefix: "agent " });
    s.write(
      `${JSON.stringify({ level: "info", time: "2026-01-01T12:00:01.000Z", pid: 1, msg: "counted", words: 3 })}\n`,
    );
    s.write(
      JSON.stringify({
        level: "error",
        time: "2026-01-01T12:00:02.000Z",
        msg: "create failed",
        op: "create",
        err: { message: "boom", stack: "Error: boom\n    at create (agent.ts:3:9)" },
      }) + "\nplain text\n",
    );
    await new Promise<void>((r) => s.end(r));
    expect(text.split("\n")).toEqual([
      "agent 12:00:01 INFO  counted words=3",
      "agent 12:00:02 ERROR create failed op=create",
      "agent     Error: boom",
      "agent         at create (agent.ts:3:9)",
      "agent plain text",
      "",
    ]);
  });
});
