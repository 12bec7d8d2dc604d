import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Literal, LiteralMap } from "../gen/flyteidl/core/literals.js";
import { BlobType_BlobDimensionality, SimpleType } from "../gen/flyteidl/core/types.js";
import { ErrorCode } from "../core/errors.js";
import { TypeTransformError } from "./errors.js";
import { flyte } from "./flyte-schemas.js";
import { fromLiteral, fromLiteralMap, literal, noneLiteral, toLiteral, toLiteralMap } from "./literal.js";
import type { AnySchema } from "./schema-kind.js";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.js";
import { PreciseDate } from "./precise-date.js";

/** Encodes and decodes through the real protobuf bytes. */
function viaBytes(lit: Literal): Literal {
  return Literal.decode(Literal.encode(lit).finish());
}

/** JS value → Literal → bytes → Literal → JS value. */
function roundTrip<S extends AnySchema>(schema: S, value: z.input<S>): z.output<S> {
  return fromLiteral(schema, viaBytes(toLiteral(schema, value)));
}

function caught(fn: () => unknown): TypeTransformError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TypeTransformError);
    return err as TypeTransformError;
  }
  throw new Error("expected a TypeTransformError");
}

describe("scalars", () => {
  it("writes an int as a primitive integer and reads it back", () => {
    const lit = viaBytes(toLiteral(z.int(), 42));
    expect(lit.scalar?.primitive?.integer).toBe(42n);
    expect(fromLiteral(z.int(), lit)).toBe(42);
  });

  it("keeps an int64 beyond 2^53 exactly with a bigint schema", () => {
    const big = 9_223_372_036_854_775_807n;
    expect(roundTrip(z.bigint(), big)).toBe(big);
    expect(roundTrip(flyte.int64(), -(2n ** 63n))).toBe(-(2n ** 63n));
  });

  it("rejects an unsafe int64 when decoding into a number schema", () => {
    const lit = viaBytes(toLiteral(z.bigint(), 2n ** 60n));
    const err = caught(() => fromLiteral(z.number().int(), lit, "rows", "output"));
    expect(err.code).toBe(ErrorCode.TYPE_MISMATCH);
    expect(err.path).toBe("rows");
    expect(err.message).toMatch(/^output "rows": int64 value 1152921504606846976 is not a safe integer/);
  });

  it("rejects a bigint outside the int64 range when encoding", () => {
    expect(() => toLiteral(z.bigint(), 2n ** 63n)).toThrow(/outside the int64 range/);
  });

  it("rejects a fractional number for an int schema", () => {
    expect(caught(() => toLiteral(z.int(), 1.5)).message).toBe('value "value": expected int, got number 1.5');
  });

  it("writes floats, strings and booleans as their primitives", () => {
    expect(viaBytes(toLiteral(z.number(), 2.5)).scalar?.primitive?.floatValue).toBe(2.5);
    expect(viaBytes(toLiteral(z.string(), "hé")).scalar?.primitive?.stringValue).toBe("hé");
    expect(viaBytes(toLiteral(z.boolean(), false)).scalar?.primitive?.boolean).toBe(false);
    expect(roundTrip(z.number(), -0.125)).toBe(-0.125);
    expect(roundTrip(z.string(), "")).toBe("");
    expect(roundTrip(z.boolean(), true)).toBe(true);
  });

  it("reads an integer literal into a float schema as flytekit does", () => {
    expect(fromLiteral(z.number(), toLiteral(z.int(), 3))).toBe(3);
  });

  it("writes a Date as a timestamp with seconds and nanos", () => {
    const date = new Date("2024-05-01T12:34:56.789Z");
    const lit = viaBytes(toLiteral(z.date(), date));
    expect(lit.scalar?.primitive?.datetime).toEqual({ seconds: 1714566896n, nanos: 789_000_000 });
    expect(fromLiteral(z.date(), lit).toISOString()).toBe("2024-05-01T12:34:56.789Z");
  });

  it("writes a date before 1970 with non-negative nanos", () => {
    const date = new Date("1969-12-31T23:59:59.500Z");
    expect(toLiteral(z.date(), date).scalar?.primitive?.datetime).toEqual({
      seconds: -1n,
      nanos: 500_000_000,
    });
    expect(roundTrip(z.date(), date).getTime()).toBe(date.getTime());
  });

  it("writes a duration in milliseconds as a protobuf Duration and accepts duration strings", () => {
    const lit = viaBytes(toLiteral(flyte.duration(), 90_500));
    expect(lit.scalar?.primitive?.duration).toEqual({ seconds: 90n, nanos: 500_000_000 });
    expect(fromLiteral(flyte.duration(), lit)).toBe(90_500);
    expect(roundTrip(flyte.duration(), "1h30m")).toBe(5_400_000);
    expect(() => toLiteral(flyte.duration(), "soon")).toThrow(/expected duration, got string "soon"/);
  });

  it("rejects a literal of the wrong kind naming both types", () => {
    const lit = toLiteral(z.string(), "abc");
    expect(caught(() => fromLiteral(z.number(), lit, "amount", "input")).message).toBe(
      'input "amount": expected float, got string literal "abc"',
    );
  });

  it("applies zod refinements on both sides", () => {
    const positive = z.number().positive();
    expect(caught(() => toLiteral(positive, -1, "x")).path).toBe("x");
    expect(() => fromLiteral(positive, toLiteral(z.number(), -1))).toThrow(TypeTransformError);
  });
});

describe("optional and none", () => {
  it("wraps a present optional value in a union literal tagged with its type", () => {
    const lit = viaBytes(toLiteral(z.int().optional(), 7));
    expect(lit.scalar?.union?.value?.scalar?.primitive?.integer).toBe(7n);
    expect(lit.scalar?.union?.type?.simple).toBe(SimpleType.INTEGER);
    expect(lit.scalar?.union?.type?.structure?.tag).toBe("int");
    expect(fromLiteral(z.int().optional(), lit)).toBe(7);
  });

  it("wraps a missing optional value as a none union literal", () => {
    const lit = viaBytes(toLiteral(z.int().optional(), undefined));
    expect(lit.scalar?.union?.value?.scalar?.noneType).toEqual({});
    expect(lit.scalar?.union?.type?.simple).toBe(SimpleType.NONE);
    expect(lit.scalar?.union?.type?.structure?.tag).toBe("none");
    expect(fromLiteral(z.int().optional(), lit)).toBeUndefined();
  });

  it("decodes none to null for a nullable schema", () => {
    expect(roundTrip(z.string().nullable(), null)).toBeNull();
  });

  it("decodes the plain (unwrapped) forms of an optional value", () => {
    expect(fromLiteral(z.int().optional(), viaBytes(noneLiteral()))).toBeUndefined();
    expect(fromLiteral(z.int().optional(), viaBytes(toLiteral(z.int(), 5)))).toBe(5);
  });

  it("unwraps a union literal read into a plain schema", () => {
    expect(fromLiteral(z.int(), viaBytes(toLiteral(z.int().optional(), 5)))).toBe(5);
  });

  it("rejects none for a required value", () => {
    expect(() => fromLiteral(z.int(), noneLiteral())).toThrow(/expected int, got none/);
    expect(() => toLiteral(z.int(), undefined as unknown as number)).toThrow(/expected int, got undefined/);
  });

  it("fills a default for a missing value", () => {
    expect(viaBytes(toLiteral(z.int().default(3), undefined)).scalar?.primitive?.integer).toBe(3n);
  });
});

describe("collections and maps", () => {
  it("round-trips a nested list of maps", () => {
    const schema = z.array(z.record(z.string(), z.array(z.int())));
    const value: Record<string, number[]>[] = [{ a: [1, 2], b: [] }, {}];
    const lit = viaBytes(toLiteral(schema, value));
    expect(
      lit.collection?.literals[0]?.map?.literals.a?.collection?.literals[1]?.scalar?.primitive?.integer,
    ).toBe(2n);
    expect(fromLiteral(schema, lit)).toEqual(value);
  });

  it("names the failing element of a nested value", () => {
    const err = caught(() =>
      toLiteralMap(
        { rows: z.array(z.object({ amount: z.number() })) },
        {
          rows: [{ amount: 1 }, { amount: 2 }, { amount: "abc" as unknown as number }],
        },
      ),
    );
    expect(err.message).toBe('input "rows[2].amount": Invalid input: expected number, received string');
    expect(err.path).toBe("rows[2].amount");
  });

  it("names the failing list element with the engine's own words", () => {
    const err = caught(() =>
      toLiteral(z.array(z.number()), [1, "abc"] as unknown as number[], "amounts", "input"),
    );
    expect(err.message).toBe('input "amounts[1]": expected float, got string "abc"');
  });

  it("names the failing map entry", () => {
    const err = caught(() =>
      toLiteral(z.record(z.string(), z.int()), { ok: 1, "bad key": 1.5 }, "counts", "input"),
    );
    expect(err.path).toBe('counts["bad key"]');
  });

  it("round-trips a list of optionals", () => {
    expect(roundTrip(z.array(z.string().nullable()), ["a", null, "b"])).toEqual(["a", null, "b"]);
  });
});

describe("structs", () => {
  const schema = z.object({
    name: z.string(),
    tags: z.array(z.string()),
    nested: z.object({ n: z.number() }),
  });
  const value = { name: "x", tags: ["a"], nested: { n: 1.5 } };

  it("writes an object as msgpack bytes tagged msgpack, as flytekit >= 1.14 writes a dataclass", () => {
    const lit = viaBytes(toLiteral(schema, value));
    expect(lit.scalar?.binary?.tag).toBe("msgpack");
    expect(decodeMsgpack(lit.scalar!.binary!.value)).toEqual(value);
    expect(fromLiteral(schema, lit)).toEqual(value);
  });

  it("writes a generic Struct when asked, or when FLYTE_USE_OLD_DC_FORMAT is true", () => {
    const lit = viaBytes(toLiteral(schema, value, "v", "value", { structFormat: "struct" }));
    expect(lit.scalar?.generic).toEqual(value);
    expect(fromLiteral(schema, lit)).toEqual(value);
    const before = process.env.FLYTE_USE_OLD_DC_FORMAT;
    process.env.FLYTE_USE_OLD_DC_FORMAT = "True";
    try {
      expect(toLiteral(schema, value).scalar?.generic).toEqual(value);
      expect(toLiteralMap({ v: schema }, { v: value }).literals.v?.scalar?.generic).toEqual(value);
    } finally {
      if (before === undefined) delete process.env.FLYTE_USE_OLD_DC_FORMAT;
      else process.env.FLYTE_USE_OLD_DC_FORMAT = before;
    }
  });

  it("rejects a struct that does not match the schema when decoding, in either form", () => {
    const generic = literal({ scalar: { generic: { name: 5 } } });
    const msgpack = literal({ scalar: { binary: { value: encodeMsgpack({ name: 5 }), tag: "msgpack" } } });
    for (const lit of [generic, msgpack]) {
      expect(caught(() => fromLiteral(z.object({ name: z.string() }), viaBytes(lit), "cfg")).path).toBe(
        "cfg.name",
      );
    }
  });

  it("refuses a binary literal of another tag, naming it", () => {
    const lit = literal({ scalar: { binary: { value: Buffer.from([1]), tag: "pickle" } } });
    expect(() => fromLiteral(z.object({}), lit, "cfg")).toThrow(/"cfg": binary literal with tag "pickle"/);
  });

  it("stores dates inside a struct as Python's isoformat, and reads naive ones as UTC with microseconds", () => {
    const Dated = z.object({ at: z.date() });
    const lit = toLiteral(Dated, { at: new Date("2024-01-01T00:00:00.250Z") });
    expect(decodeMsgpack(lit.scalar!.binary!.value)).toEqual({ at: "2024-01-01T00:00:00.250000+00:00" });
    const fromPython = literal({
      scalar: { binary: { value: encodeMsgpack({ at: "2024-01-01T00:00:00.123456" }), tag: "msgpack" } },
    });
    const back = fromLiteral(Dated, fromPython);
    expect(back.at).toBeInstanceOf(PreciseDate);
    expect((back.at as PreciseDate).toPreciseISOString()).toBe("2024-01-01T00:00:00.123456Z");
    expect(decodeMsgpack(toLiteral(Dated, back).scalar!.binary!.value)).toEqual({
      at: "2024-01-01T00:00:00.123456+00:00",
    });
  });

  it("keeps int64 fields beyond 2^53 exact, and maps files, datasets and durations as flytekit does", () => {
    const Job = z.object({
      id: z.bigint(),
      report: flyte.file(),
      table: flyte.structuredDataset(),
      wait: flyte.duration(),
      blob: z.instanceof(Buffer).optional(),
    });
    const job = {
      id: 2n ** 63n - 1n,
      report: { uri: "s3://b/r.csv" },
      table: { uri: "s3://b/t", format: "parquet" },
      wait: 1500,
    };
    const lit = toLiteral(Job, job);
    expect(decodeMsgpack(lit.scalar!.binary!.value)).toEqual({
      id: 2n ** 63n - 1n,
      report: { path: "s3://b/r.csv" },
      table: { uri: "s3://b/t", file_format: "parquet" },
      wait: 1.5,
    });
    expect(fromLiteral(Job, lit)).toEqual(job);
  });

  it("reads an untyped dict written as msgpack where the schema declares a record", () => {
    const lit = literal({ scalar: { binary: { value: encodeMsgpack({ a: 1, b: 2 }), tag: "msgpack" } } });
    expect(fromLiteral(z.record(z.string(), z.int()), lit)).toEqual({ a: 1, b: 2 });
  });
});

describe("enums", () => {
  const Size = z.enum(["small", "large"]);

  it("writes an enum value as a string primitive", () => {
    const lit = viaBytes(toLiteral(Size, "large"));
    expect(lit.scalar?.primitive?.stringValue).toBe("large");
    expect(fromLiteral(Size, lit)).toBe("large");
  });

  it("rejects an unknown enum value both ways", () => {
    expect(caught(() => toLiteral(Size, "medium" as "small", "size", "input")).message).toBe(
      'input "size": expected one of "small", "large", got string "medium"',
    );
    expect(() => fromLiteral(Size, toLiteral(z.string(), "medium"))).toThrow(/expected one of/);
  });
});

describe("unions", () => {
  const schema = z.union([z.int(), z.string(), z.array(z.string())]);

  it("wraps the value with the type of the first variant it fits", () => {
    const asInt = viaBytes(toLiteral(schema, 3));
    expect(asInt.scalar?.union?.type?.structure?.tag).toBe("int");
    const asList = viaBytes(toLiteral(schema, ["a"]));
    expect(asList.scalar?.union?.type?.collectionType?.simple).toBe(SimpleType.STRING);
    expect(asList.scalar?.union?.type?.structure?.tag).toBe("Typed List");
  });

  it("round-trips each variant", () => {
    expect(roundTrip(schema, 3)).toBe(3);
    expect(roundTrip(schema, "3")).toBe("3");
    expect(roundTrip(schema, ["x", "y"])).toEqual(["x", "y"]);
  });

  it("uses the union's declared type to choose between overlapping variants", () => {
    const overlap = z.union([z.number(), z.int()]);
    const lit = toLiteral(z.union([z.int(), z.number()]), 2);
    expect(lit.scalar?.union?.type?.simple).toBe(SimpleType.INTEGER);
    expect(fromLiteral(overlap, viaBytes(lit))).toBe(2);
  });

  it("rejects a value that fits no variant", () => {
    expect(() => toLiteral(schema, true as unknown as number)).toThrow(
      /expected union<int \| str \| list<str>>, got boolean true/,
    );
  });
});

describe("blobs and datasets", () => {
  it("writes a file as a single blob with its format and reads back its uri", () => {
    const schema = flyte.file({ format: "csv" });
    const lit = viaBytes(toLiteral(schema, { uri: "s3://bucket/a.csv" }));
    expect(lit.scalar?.blob).toEqual({
      uri: "s3://bucket/a.csv",
      metadata: { type: { format: "csv", dimensionality: BlobType_BlobDimensionality.SINGLE } },
    });
    expect(fromLiteral(schema, lit)).toEqual({ uri: "s3://bucket/a.csv" });
  });

  it("accepts a plain string uri for a directory", () => {
    const lit = viaBytes(toLiteral(flyte.directory(), "gs://bucket/dir/"));
    expect(lit.scalar?.blob?.uri).toBe("gs://bucket/dir/");
    expect(lit.scalar?.blob?.metadata?.type?.dimensionality).toBe(BlobType_BlobDimensionality.MULTIPART);
  });

  it("rejects a blob without a uri", () => {
    expect(() => toLiteral(flyte.file(), { uri: "" }, "report")).toThrow(/"report"/);
  });

  it("writes a structured dataset with its format and columns", () => {
    const schema = flyte.structuredDataset({ columns: { id: z.int() } });
    const lit = viaBytes(toLiteral(schema, { uri: "s3://b/t/" }));
    expect(lit.scalar?.structuredDataset?.uri).toBe("s3://b/t/");
    const sdType = lit.scalar?.structuredDataset?.metadata?.structuredDatasetType;
    expect(sdType?.format).toBe("parquet");
    expect(sdType?.columns[0]?.name).toBe("id");
    expect(fromLiteral(schema, lit)).toEqual({ uri: "s3://b/t/", format: "parquet" });
    expect(roundTrip(schema, { uri: "bq://p.d.t", format: "bigquery" })).toEqual({
      uri: "bq://p.d.t",
      format: "bigquery",
    });
  });
});

describe("literal maps", () => {
  const shape = { rows: z.int(), name: z.string().optional(), when: z.date() };

  it("round-trips named values through LiteralMap bytes", () => {
    const values = { rows: 10, name: "n", when: new Date(0) };
    const map = LiteralMap.decode(LiteralMap.encode(toLiteralMap(shape, values)).finish());
    expect(Object.keys(map.literals).sort()).toEqual(["name", "rows", "when"]);
    expect(fromLiteralMap(shape, map)).toEqual(values);
  });

  it("writes a missing optional input as none", () => {
    const map = toLiteralMap(shape, { rows: 1, when: new Date(0) });
    expect(map.literals.name?.scalar?.union?.value?.scalar?.noneType).toEqual({});
    expect(fromLiteralMap(shape, map)).toEqual({ rows: 1, name: undefined, when: new Date(0) });
  });

  it("rejects a missing required input naming it", () => {
    const err = caught(() =>
      toLiteralMap(shape, { when: new Date(0) } as unknown as { rows: number; when: Date }),
    );
    expect(err.message).toBe('input "rows": missing required input (int)');
  });

  it("rejects an unexpected input listing the declared ones", () => {
    const err = caught(() => toLiteralMap({ rows: z.int() }, { rows: 1, colour: "red" } as { rows: number }));
    expect(err.message).toBe('input "colour": unexpected input; declared inputs are rows');
  });

  it("rejects a missing required output when decoding", () => {
    expect(() => fromLiteralMap({ total: z.number() }, { literals: {} }, { label: "output" })).toThrow(
      'output "total": missing required output (float)',
    );
  });

  it("can ignore extra outputs when asked", () => {
    const map = toLiteralMap({ a: z.int(), b: z.int() }, { a: 1, b: 2 });
    expect(() => fromLiteralMap({ a: z.int() }, map)).toThrow(/unexpected input/);
    expect(fromLiteralMap({ a: z.int() }, map, { allowExtraKeys: true })).toEqual({ a: 1 });
  });

  it("fills defaults for missing values when decoding", () => {
    expect(fromLiteralMap({ n: z.int().default(5) }, { literals: {} })).toEqual({ n: 5 });
  });
});
