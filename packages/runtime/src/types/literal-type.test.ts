import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BlobType_BlobDimensionality, LiteralType, SimpleType } from "../gen/flyteidl/core/types.js";
import { VariableMap } from "../gen/flyteidl/core/interface.js";
import { TypeTransformError } from "./errors.js";
import { flyte } from "./flyte-schemas.js";
import { declaresMsgpack, describeType, toLiteralType, toVariableMap } from "./literal-type.js";

/** Encodes and decodes through the real protobuf bytes. */
function viaBytes(type: LiteralType): LiteralType {
  return LiteralType.decode(LiteralType.encode(type).finish());
}

describe("toLiteralType", () => {
  it.each([
    ["z.number().int()", z.number().int(), SimpleType.INTEGER],
    ["z.int()", z.int(), SimpleType.INTEGER],
    ["z.bigint()", z.bigint(), SimpleType.INTEGER],
    ["flyte.int64()", flyte.int64(), SimpleType.INTEGER],
    ["z.number()", z.number(), SimpleType.FLOAT],
    ["z.string()", z.string(), SimpleType.STRING],
    ["z.boolean()", z.boolean(), SimpleType.BOOLEAN],
    ["z.date()", z.date(), SimpleType.DATETIME],
    ["flyte.duration()", flyte.duration(), SimpleType.DURATION],
    ["z.object()", z.object({ a: z.string() }), SimpleType.STRUCT],
    ["z.null()", z.null(), SimpleType.NONE],
  ])("maps %s to a simple type", (_name, schema, simple) => {
    const type = viaBytes(toLiteralType(schema));
    expect(type.simple).toBe(simple);
  });

  it("types an object as flytekit types a dataclass: STRUCT, field types, msgpack annotation", () => {
    const type = viaBytes(toLiteralType(z.object({ a: z.string(), n: z.int() })));
    expect(type.annotation?.annotations).toEqual({
      "cache-key-metadata": { "serialization-format": "msgpack" },
    });
    expect(declaresMsgpack(type)).toBe(true);
    expect(type.structure?.dataclassType.a?.simple).toBe(SimpleType.STRING);
    expect(type.structure?.dataclassType.n?.simple).toBe(SimpleType.INTEGER);
    expect(declaresMsgpack(viaBytes(toLiteralType(z.string())))).toBe(false);
  });

  it("maps an optional int to a union of int and none tagged like flytekit", () => {
    const type = viaBytes(toLiteralType(z.number().int().optional()));
    expect(type.unionType?.variants).toHaveLength(2);
    expect(type.unionType?.variants[0]?.simple).toBe(SimpleType.INTEGER);
    expect(type.unionType?.variants[0]?.structure?.tag).toBe("int");
    expect(type.unionType?.variants[1]?.simple).toBe(SimpleType.NONE);
    expect(type.unionType?.variants[1]?.structure?.tag).toBe("none");
  });

  it("maps nullable the same way as optional", () => {
    expect(toLiteralType(z.string().nullable())).toEqual(toLiteralType(z.string().optional()));
  });

  it("flattens an optional union into one union with a none variant", () => {
    const type = toLiteralType(z.union([z.string(), z.number()]).optional());
    expect(type.unionType?.variants.map((v) => v.structure?.tag)).toEqual(["str", "float", "none"]);
  });

  it("maps lists and string-keyed records to collection and map types", () => {
    const type = viaBytes(toLiteralType(z.array(z.record(z.string(), z.number()))));
    expect(type.collectionType?.mapValueType?.simple).toBe(SimpleType.FLOAT);
  });

  it("maps an enum to an enum type with its values in order", () => {
    expect(viaBytes(toLiteralType(z.enum(["small", "large"]))).enumType?.values).toEqual(["small", "large"]);
  });

  it("maps files and directories to single and multipart blobs with their format", () => {
    expect(viaBytes(toLiteralType(flyte.file({ format: "csv" }))).blob).toEqual({
      format: "csv",
      dimensionality: BlobType_BlobDimensionality.SINGLE,
    });
    expect(viaBytes(toLiteralType(flyte.directory())).blob).toEqual({
      format: "",
      dimensionality: BlobType_BlobDimensionality.MULTIPART,
    });
  });

  it("keeps the blob mapping for a refined file schema", () => {
    const schema = flyte.file().describe("a report");
    expect(toLiteralType(schema).blob?.dimensionality).toBe(BlobType_BlobDimensionality.SINGLE);
  });

  it("maps a structured dataset to parquet by default with typed columns", () => {
    const type = viaBytes(
      toLiteralType(flyte.structuredDataset({ columns: { id: z.int(), name: z.string() } })),
    );
    expect(type.structuredDatasetType?.format).toBe("parquet");
    expect(type.structuredDatasetType?.columns.map((c) => [c.name, c.literalType?.simple])).toEqual([
      ["id", SimpleType.INTEGER],
      ["name", SimpleType.STRING],
    ]);
  });

  it("rejects schemas that have no Flyte type", () => {
    expect(() => toLiteralType(z.string().transform((s) => s.length))).toThrow(TypeTransformError);
    expect(() => toLiteralType(z.map(z.string(), z.string()))).toThrow(/no Flyte mapping/);
    expect(() => toLiteralType(z.record(z.number(), z.string()))).toThrow(/keys must be strings/);
  });
});

describe("toVariableMap", () => {
  it("builds variables with types and descriptions that survive the protobuf bytes", () => {
    const map = toVariableMap(
      { rows: z.int(), name: z.string().describe("who runs it") },
      { rows: "how many rows" },
    );
    const decoded = VariableMap.decode(VariableMap.encode(map).finish());
    expect(decoded.variables.rows?.type?.simple).toBe(SimpleType.INTEGER);
    expect(decoded.variables.rows?.description).toBe("how many rows");
    expect(decoded.variables.name?.description).toBe("who runs it");
  });
});

describe("describeType", () => {
  it.each([
    [z.int(), "int"],
    [z.bigint(), "int"],
    [z.number(), "float"],
    [z.array(z.string()), "list<str>"],
    [z.record(z.string(), z.boolean()), "map<str, bool>"],
    [z.number().optional(), "optional<float>"],
    [z.union([z.int(), z.string()]), "union<int | str>"],
    [z.enum(["a", "b"]), "enum(a | b)"],
    [z.date(), "datetime"],
    [flyte.duration(), "duration"],
    [flyte.file({ format: "csv" }), "file (csv)"],
    [flyte.directory(), "directory"],
    [flyte.structuredDataset(), "structured dataset (parquet)"],
    [z.object({}), "object"],
    [z.int().default(3), "int"],
  ])("describes %o as %s", (schema, text) => {
    expect(describeType(schema)).toBe(text);
  });
});
