// Writes the FileDescriptorSet of flyteidl2.connector's services, and every file they import, from the
// descriptors embedded in the official @flyteorg/flyteidl2 package (protobuf-es v2 ships no .proto
// files). Run by scripts/generate.mjs through tsx, because the package ships TypeScript sources only.
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const [out] = process.argv.slice(2);
if (!out) throw new Error("usage: flyteidl2-descriptors.mts <out.binpb>");
const require = createRequire(import.meta.url);
const pkg = dirname(require.resolve("@flyteorg/flyteidl2/package.json"));
const service = (await import(pathToFileURL(join(pkg, "flyteidl2/connector/service_pb.ts")).href)) as {
  file_flyteidl2_connector_service: DescFile;
};

// Dependencies first, as protoc and buf expect them in a set.
const files = new Map<string, FileDescriptorProto>();
const visit = (file: DescFile): void => {
  if (files.has(file.proto.name)) return;
  for (const dep of file.dependencies) visit(dep);
  files.set(file.proto.name, file.proto);
};
visit(service.file_flyteidl2_connector_service);
writeFileSync(
  out,
  toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [...files.values()] })),
);
