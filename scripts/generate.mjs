#!/usr/bin/env node
// Regenerates src/gen from the protos shipped in @flyteorg/flyteidl, offline.
// The agent service protos import google/api/annotations.proto, which comes from google-proto-files;
// well-known types (google/protobuf/*) are built into buf.
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const flyteidl = dirname(require.resolve("@flyteorg/flyteidl/package.json"));
const googleProtos = dirname(require.resolve("google-proto-files/package.json"));

const work = mkdtempSync(join(tmpdir(), "flyte-agent-gen-"));
try {
  cpSync(join(flyteidl, "protos", "flyteidl"), join(work, "flyteidl"), { recursive: true });
  for (const f of ["annotations.proto", "http.proto"]) {
    cpSync(join(googleProtos, "google", "api", f), join(work, "google", "api", f));
  }
  cpSync(join(root, "proto", "buf.yaml"), join(work, "buf.yaml"));
  const out = join(root, "src", "gen");
  rmSync(out, { recursive: true, force: true });
  const gen = readFileSync(join(root, "proto", "buf.gen.yaml"), "utf8")
    .replace(
      "local: node_modules/.bin/protoc-gen-ts_proto",
      `local: ${join(root, "node_modules", ".bin", "protoc-gen-ts_proto")}`,
    )
    .replace("out: src/gen", `out: ${out}`);
  writeFileSync(join(work, "buf.gen.yaml"), gen);
  const buf = join(root, "node_modules", ".bin", "buf");
  if (!existsSync(buf)) throw new Error("buf is not installed: run `npm ci` first");
  execFileSync(buf, ["generate", "--template", "buf.gen.yaml", "--path", "flyteidl/service/agent.proto"], {
    cwd: work,
    stdio: "inherit",
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
