import { describe, expect, it } from "vitest";
import { Literal } from "../gen/flyteidl/core/literals.js";
import { SimpleType } from "../gen/flyteidl/core/types.js";
import { plainToLiteral } from "./plain-to-literal.js";
import { literalToPlain } from "./literal-to-plain.js";
import { flyte } from "./flyte-schemas.js";
import { toLiteralType } from "./literal-type.js";
import { z } from "zod";

const roundTrip = (l: Literal) => Literal.decode(Literal.encode(l).finish());

describe("plainToLiteral", () => {
  it("infers integer, float, string, bool, datetime, none, list and struct from values", () => {
    const d = new Date("2024-01-02T03:04:05.006Z");
    const values = [7, 2.5, 9007199254740993n, "s", true, d, null, [1, 2], { a: { b: [1, "x"] } }];
    for (const v of values) {
      const back = literalToPlain(roundTrip(plainToLiteral(v)));
      expect(back).toEqual(v);
    }
    expect(plainToLiteral(7).scalar?.primitive?.integer).toBe(7n);
    expect(plainToLiteral(2.5).scalar?.primitive?.floatValue).toBe(2.5);
  });

  it("follows a declared type: float for integral numbers, blobs and datasets from { uri }", () => {
    const floatType = toLiteralType(z.number());
    expect(plainToLiteral(3, floatType).scalar?.primitive?.floatValue).toBe(3);
    const sd = plainToLiteral({ uri: "file:///tmp/out" }, toLiteralType(flyte.structuredDataset()));
    expect(sd.scalar?.structuredDataset?.uri).toBe("file:///tmp/out");
    expect(sd.scalar?.structuredDataset?.metadata?.structuredDatasetType?.format).toBe("parquet");
    const file = plainToLiteral("s3://b/k.csv", toLiteralType(flyte.file({ format: "csv" })));
    expect(file.scalar?.blob?.metadata?.type?.format).toBe("csv");
  });

  it("wraps optional values in the union and writes none for a missing one", () => {
    const t = toLiteralType(z.number().int().optional());
    expect(plainToLiteral(undefined, t).scalar?.union?.value?.scalar?.noneType).toEqual({});
    expect(plainToLiteral(4, t).scalar?.union?.value?.scalar?.primitive?.integer).toBe(4n);
  });

  it("names the field that does not fit its type", () => {
    const t = toLiteralType(z.array(z.number()));
    expect(() => plainToLiteral([1, "x"], t, "scores")).toThrow(
      /output "scores\[1\]": expected float, got string "x"/,
    );
    expect(() => plainToLiteral(1.5, { simple: SimpleType.INTEGER } as never, "n")).toThrow(/expected int/);
    expect(() => plainToLiteral(2n ** 64n)).toThrow(/does not fit in int64/);
  });

  it("refuses NaN in a Struct, naming the field, instead of writing null", () => {
    expect(() =>
      plainToLiteral({ a: { b: Number.NaN } }, { simple: SimpleType.STRUCT } as never, "out"),
    ).toThrow(/output "out\.a\.b": JSON cannot hold the number NaN/);
  });
});
