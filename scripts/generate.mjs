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

const BUF_VERSION = "1.75.0";
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
  if (!existsSync(join(root, "node_modules", ".bin", "protoc-gen-ts_proto"))) {
    throw new Error("ts-proto is not installed: run `npm ci` first");
  }
  // buf is fetched by npx at a pinned version rather than kept in the lockfile: the registry holds
  // its binaries only for some platforms, which makes `npm ci` refuse a lockfile that lists it.
  execFileSync(
    "npx",
    [
      "--yes",
      `@bufbuild/buf@${BUF_VERSION}`,
      "generate",
      "--template",
      "buf.gen.yaml",
      "--path",
      "flyteidl/service/agent.proto",
      // admin.TaskSpec / admin.Task: what `pyflyte package` writes and `flytectl get task` prints.
      "--path",
      "flyteidl/admin/task.proto",
    ],
    { cwd: work, stdio: "inherit" },
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
