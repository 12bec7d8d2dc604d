// The fast part of `serve --workers`: flag checking, through the real binary.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { bin, root } from "../support/serve-process.js";

describe("flyte-agent serve agent --workers", () => {
  it.each(["0", "1.5", "two"])("refuses --workers %s with one sentence and exit code 2", async (value) => {
    const result = await execa("node", [bin, "serve", "agent", "--workers", value, "--no-discover"], {
      cwd: root,
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(
      `error: --workers must be a whole number of at least 1 or "auto", got "${value}"`,
    );
  });
});
