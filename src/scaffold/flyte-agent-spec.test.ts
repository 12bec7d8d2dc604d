import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultFlyteAgentSpec } from "./flyte-agent-spec.js";

describe("defaultFlyteAgentSpec", () => {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "flyte-agent-spec-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function installed(project: string, resolved: string | undefined): Promise<string> {
    const pkgDir = join(project, "node_modules", "flyte-agent");
    await mkdir(pkgDir, { recursive: true });
    const entry = resolved === undefined ? { version: "0.1.0" } : { version: "0.1.0", resolved };
    await writeFile(
      join(project, "node_modules", ".package-lock.json"),
      JSON.stringify({ packages: { "node_modules/flyte-agent": entry } }),
    );
    return pkgDir;
  }

  it("points at a checkout it runs from", async () => {
    expect(await defaultFlyteAgentSpec(join(root, "flyte-agent"), "0.1.0")).toBe(
      `file:${join(root, "flyte-agent")}`,
    );
  });

  it("points at the tarball npx installed it from (a path relative to npx's directory)", async () => {
    const npxDir = join(root, "_npx", "abc123");
    const pkgDir = await installed(npxDir, "file:../../flyte-agent-0.1.0.tgz");
    expect(await defaultFlyteAgentSpec(pkgDir, "0.1.0")).toBe(`file:${join(root, "flyte-agent-0.1.0.tgz")}`);
  });

  it("uses the registry version for a registry install, or when no lockfile says where it came from", async () => {
    const fromRegistry = await installed(
      join(root, "a"),
      "https://registry.npmjs.org/flyte-agent/-/flyte-agent-0.1.0.tgz",
    );
    expect(await defaultFlyteAgentSpec(fromRegistry, "0.1.0")).toBe("^0.1.0");
    expect(await defaultFlyteAgentSpec(await installed(join(root, "b"), undefined), "0.1.0")).toBe("^0.1.0");
    const noLock = join(root, "c", "node_modules", "flyte-agent");
    await mkdir(noLock, { recursive: true });
    expect(await defaultFlyteAgentSpec(noLock, "0.2.0")).toBe("^0.2.0");
  });
});
