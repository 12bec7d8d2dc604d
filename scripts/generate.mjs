#!/usr/bin/env node
// Regenerates packages/runtime/src/gen, offline, with ts-proto:
// - Flyte 1 (`packages/runtime/src/gen/flyteidl`, `packages/runtime/src/gen/google`): from the protos shipped in @flyteorg/flyteidl. The agent
//   service protos import google/api/annotations.proto, which comes from google-proto-files; well-known
//   types (google/protobuf/*) are built into buf.
// - Flyte 2 (`packages/runtime/src/gen/v2`): from the descriptors embedded in @flyteorg/flyteidl2 (it ships protobuf-es
//   TypeScript, no .proto files), so both protocols share one generator, one option set and grpc-js
//   service definitions. The embedded descriptors carry no comments, so neither does this code.
// - The descriptors gRPC reflection answers from (`packages/runtime/src/gen/descriptors.ts`, `packages/runtime/src/gen/v2/descriptors.ts`):
//   the files of the served services with every file they import, as buf builds them, so the runtime
//   needs neither the protos nor a proto parser. Health's file is proto/grpc/health/v1/health.proto.
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
  cpSync(join(root, "proto", "grpc"), join(work, "grpc"), { recursive: true });
  const out = join(root, "packages", "runtime", "src", "gen");
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
  const bufCommand = (command, ...args) =>
    execFileSync("npx", ["--yes", `@bufbuild/buf@${BUF_VERSION}`, command, ...args], {
      cwd: work,
      stdio: "inherit",
    });
  const buf = (...args) => bufCommand("generate", ...args);
  const tsx = (script, ...args) =>
    execFileSync(join(root, "node_modules", ".bin", "tsx"), [join(root, "scripts", script), ...args], {
      stdio: "inherit",
    });
  buf(
    "--template",
    "buf.gen.yaml",
    "--path",
    "flyteidl/service/agent.proto",
    // admin.TaskSpec / admin.Task: what `pyflyte package` writes and `flytectl get task` prints.
    "--path",
    "flyteidl/admin/task.proto",
  );

  // Reflection's Flyte 1 and health files; source info (comments) is left out, as reflection clients
  // do not need it and it would triple the module.
  bufCommand(
    "build",
    "--exclude-source-info",
    "-o",
    "flyteidl.binpb",
    "--path",
    "flyteidl/service/agent.proto",
    "--path",
    "grpc/health/v1/health.proto",
  );
  const { version } = JSON.parse(readFileSync(join(flyteidl, "package.json"), "utf8"));
  tsx(
    "descriptor-module.mts",
    join(work, "flyteidl.binpb"),
    join(out, "descriptors.ts"),
    `@flyteorg/flyteidl ${version} and proto/grpc/health/v1/health.proto`,
  );

  // The server's reflection answers Flyte 2's files from packages/runtime/src/gen/v2/descriptors.ts.
  tsx("flyteidl2-descriptors.mts", join(work, "flyteidl2.binpb"), join(out, "v2", "descriptors.ts"));
  writeFileSync(join(work, "buf.gen.v2.yaml"), gen.replace(`out: ${out}`, `out: ${join(out, "v2")}`));
  buf("flyteidl2.binpb", "--template", "buf.gen.v2.yaml", "--path", "flyteidl2/connector/service.proto");
} finally {
  rmSync(work, { recursive: true, force: true });
}
