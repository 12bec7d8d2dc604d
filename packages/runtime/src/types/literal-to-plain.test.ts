import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Literal } from "../gen/flyteidl/core/literals.js";
import { flyte } from "./flyte-schemas.js";
import { toLiteral } from "./literal.js";
import { literalToPlain } from "./literal-to-plain.js";

const viaBytes = (lit: Literal): Literal => Literal.decode(Literal.encode(lit).finish());

describe("literalToPlain", () => {
  it("converts scalars without a schema", () => {
    expect(literalToPlain(viaBytes(toLiteral(z.int(), 5)))).toBe(5);
    expect(literalToPlain(viaBytes(toLiteral(z.bigint(), 2n ** 62n)))).toBe(2n ** 62n);
    expect(literalToPlain(viaBytes(toLiteral(z.number(), 0.5)))).toBe(0.5);
    expect(literalToPlain(viaBytes(toLiteral(z.date(), new Date(1000))))).toEqual(new Date(1000));
    expect(literalToPlain(viaBytes(toLiteral(flyte.duration(), 1500)))).toBe(1500);
  });

  it("converts nested collections, maps, unions and none", () => {
    const schema = z.record(z.string(), z.array(z.int().optional()));
    expect(literalToPlain(viaBytes(toLiteral(schema, { a: [1, undefined] })))).toEqual({ a: [1, null] });
  });

  it("converts blobs, datasets and structs to plain objects", () => {
    expect(literalToPlain(viaBytes(toLiteral(flyte.directory(), "s3://b/d")))).toEqual({
      uri: "s3://b/d",
      dimensionality: "multipart",
    });
    expect(literalToPlain(viaBytes(toLiteral(flyte.structuredDataset(), "s3://b/t")))).toEqual({
      uri: "s3://b/t",
      format: "parquet",
    });
    expect(literalToPlain(viaBytes(toLiteral(z.object({ a: z.string() }), { a: "x" })))).toEqual({ a: "x" });
  });
});
