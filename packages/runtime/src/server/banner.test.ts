import { describe, expect, it } from "vitest";
import { formatBanner } from "./banner.js";

describe("formatBanner", () => {
  it("names both protocols under the address, then the agents", () => {
    const text = formatBanner({
      agents: [{ name: "Q", isSync: true, categories: [{ name: "q", version: 0 }] }],
      address: "0.0.0.0:8000",
      tls: "plaintext",
    });
    const lines = text.split("\n");
    expect(lines[0]).toBe("flyte-agent serving on 0.0.0.0:8000 (plaintext)");
    expect(lines[1]).toBe(
      "for Flyte 1 (flyteidl.service) and Flyte 2 (flyteidl2.connector; sync agents through CreateTask)",
    );
    expect(text).toMatch(/Q\s+q_v0\s+yes/);
  });
});
