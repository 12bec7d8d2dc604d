import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  BlobType_BlobDimensionality,
  type LiteralType,
  SimpleType,
} from "@flyte-agent/runtime/internal/gen/flyteidl/core/types.js";
import { flyte } from "@flyte-agent/runtime/internal/types/flyte-schemas.js";
import {
  literalType,
  sameTypeEssence,
  toLiteralType,
  withTag,
} from "@flyte-agent/runtime/internal/types/literal-type.js";
import { defineTask } from "@flyte-agent/runtime/internal/task/define-task.js";
import { readTar, TarError } from "./tar.js";
import { schemaFromLiteralType, taskFromTemplate } from "./template-task.js";

const simple = (s: SimpleType) => literalType({ simple: s });

describe("schemaFromLiteralType", () => {
  const cases: [string, LiteralType][] = [
    ["INTEGER", simple(SimpleType.INTEGER)],
    ["FLOAT", simple(SimpleType.FLOAT)],
    ["STRING", simple(SimpleType.STRING)],
    ["BOOLEAN", simple(SimpleType.BOOLEAN)],
    ["DATETIME", simple(SimpleType.DATETIME)],
    ["DURATION", simple(SimpleType.DURATION)],
    ["STRUCT", simple(SimpleType.STRUCT)],
    ["collection", literalType({ collectionType: simple(SimpleType.STRING) })],
    ["map", literalType({ mapValueType: literalType({ collectionType: simple(SimpleType.FLOAT) }) })],
    ["enum", literalType({ enumType: { values: ["a", "b"] } })],
    ["file", literalType({ blob: { format: "csv", dimensionality: BlobType_BlobDimensionality.SINGLE } })],
    [
      "directory",
      literalType({ blob: { format: "", dimensionality: BlobType_BlobDimensionality.MULTIPART } }),
    ],
    [
      "structured dataset",
      toLiteralType(flyte.structuredDataset({ format: "parquet", columns: { id: z.int() } })),
    ],
    [
      "Optional[int]",
      literalType({
        unionType: {
          variants: [withTag(simple(SimpleType.INTEGER), "int"), withTag(simple(SimpleType.NONE), "none")],
        },
      }),
    ],
    [
      "Union[int, str]",
      literalType({
        unionType: {
          variants: [withTag(simple(SimpleType.INTEGER), "int"), withTag(simple(SimpleType.STRING), "str")],
        },
      }),
    ],
  ];

  it.each(cases)("gives %s a schema whose Flyte type is the same again", (_name, type) => {
    const back = toLiteralType(schemaFromLiteralType(type));
    expect(sameTypeEssence(back, type), JSON.stringify(back)).toBe(true);
  });

  it("refuses types it has no value form for, naming the input", () => {
    expect(() => schemaFromLiteralType(simple(SimpleType.BINARY), "blob_in", "input")).toThrow(
      'input "blob_in": the Flyte type BINARY cannot be given as a value here',
    );
  });
});

describe("taskFromTemplate", () => {
  const source = defineTask({
    name: "pkg.tasks.sum",
    taskType: "adder",
    taskTypeVersion: 3,
    inputs: { a: z.int(), b: z.int().optional() },
    outputs: { total: z.int() },
    config: { precision: 2 },
  });

  it("keeps the template as given and types inputs and outputs by its interface", () => {
    const task = taskFromTemplate(source.template(), { description: "adds" });
    expect(task.template()).toEqual(source.template());
    expect(task.template()).not.toBe(task.template());
    expect(task.category).toEqual({ name: "adder", version: 3 });
    expect(task.description).toBe("adds");
    const encoded = task.encodeInputs({ a: 1 });
    expect(source.decodeInputs(encoded)).toEqual({ a: 1, b: undefined });
    expect(task.decodeOutputs(source.encodeOutputs({ total: 5 }))).toEqual({ total: 5 });
    expect(() => task.encodeInputs({ a: "x" })).toThrow(/input "a"/);
  });

  it("refuses a template without a task type", () => {
    expect(() => taskFromTemplate({ ...source.template(), type: "" })).toThrow(
      "task pkg.tasks.sum has no task type",
    );
  });
});

/** One ustar header block for `name` holding `size` bytes, with its checksum. */
function header(name: string, size: number, type = "0"): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, "utf8");
  h.write("0000644\0", 100);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write("00000000000\0", 136);
  h.write(type, 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

describe("readTar", () => {
  it("reads GNU long names and skips directories", () => {
    const long = `${"x".repeat(150)}_1.pb`;
    const tar = Buffer.concat([
      header("dir/", 0, "5"),
      header("././@LongLink", long.length + 1, "L"),
      pad(Buffer.from(`${long}\0`)),
      header(long, 3),
      pad(Buffer.from("abc")),
      Buffer.alloc(1024),
    ]);
    const files = readTar(gzipSync(tar));
    expect(files.map((f) => [f.name, Buffer.from(f.data).toString()])).toEqual([[long, "abc"]]);
  });

  it("says what is wrong with a broken archive", () => {
    const good = Buffer.concat([header("a_1.pb", 600), pad(Buffer.alloc(600))]);
    expect(() => readTar(good.subarray(0, 700))).toThrow(new TarError("the archive is truncated"));
    expect(() => readTar(Buffer.alloc(600, 1))).toThrow("it is not a tar archive");
    expect(() => readTar(Buffer.from([0x1f, 0x8b, 1, 2]))).toThrow(/not valid gzip/);
  });
});
