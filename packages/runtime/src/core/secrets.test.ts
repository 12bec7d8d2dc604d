import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getAgentSecret } from "./secrets.js";

describe("getAgentSecret", () => {
  const dir = mkdtempSync(join(tmpdir(), "secrets-"));
  writeFileSync(join(dir, "api_key"), "from-file\n");

  it("prefers the _FSEC_ variable", async () => {
    const env = { _FSEC_API_KEY: "from-fsec", API_KEY: "bare" };
    expect(await getAgentSecret("api_key", { env, directory: dir, local: true })).toBe("from-fsec");
  });

  it("reads the bare variable only in local runs", async () => {
    const env = { API_KEY: "bare" };
    expect(await getAgentSecret("api_key", { env, directory: dir, local: true })).toBe("bare");
    expect(await getAgentSecret("api_key", { env, directory: dir, local: false })).toBe("from-file");
  });

  it("honours a configured prefix and directory from the environment", async () => {
    const env = { FLYTE_SECRETS_ENV_PREFIX: "MY_", MY_TOKEN: "t", FLYTE_SECRETS_DEFAULT_DIR: dir };
    expect(await getAgentSecret("token", { env })).toBe("t");
    expect(await getAgentSecret("api_key", { env })).toBe("from-file");
  });

  it("says where it looked when nothing is found, without any value", async () => {
    await expect(getAgentSecret("missing", { env: {}, directory: dir, local: true })).rejects.toThrow(
      /secret "missing" not found \(tried env _FSEC_MISSING, env MISSING, file .*missing\)/,
    );
  });
});
