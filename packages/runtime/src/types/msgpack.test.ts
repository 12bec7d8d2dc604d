import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { literal } from "./literal.js";
import { literalToPlain } from "./literal-to-plain.js";
import { decodeMsgpack, defaultStructFormat, encodeMsgpack, readStructLiteral } from "./msgpack.js";
import { plainToLiteral } from "./plain-to-literal.js";
import { PreciseDate } from "./precise-date.js";
import { SimpleType } from "../gen/flyteidl/core/types.js";
import { msgpackAnnotation } from "./literal-type.js";

function pythonMsgpack(): string | undefined {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import msgpack"], { stdio: "ignore" });
    return "/usr/bin/python3";
  } catch {
    return undefined;
  }
}
const python = pythonMsgpack();

/** Runs Python code with `msgpack` imported; stdin/stdout are hex. */
function py(code: string, input = ""): string {
  return execFileSync(python!, ["-c", `import msgpack, sys, json\n${code}`], { input })
    .toString()
    .trim();
}

describe("msgpack values", () => {
  it("keeps integers exact: numbers while a double holds them, bigint beyond", () => {
    const value = { small: 1, big32: 2 ** 40, max: 2n ** 63n - 1n, min: -(2n ** 63n), u64: 2n ** 64n - 1n };
    const back = decodeMsgpack(encodeMsgpack(value)) as Record<string, unknown>;
    expect(back).toEqual({
      small: 1,
      big32: 2 ** 40,
      max: 2n ** 63n - 1n,
      min: -(2n ** 63n),
      u64: 2n ** 64n - 1n,
    });
    expect(() => encodeMsgpack({ n: 2n ** 64n })).toThrow(/"value\.n": 18446744073709551616n does not fit/);
  });

  it("keeps bytes as Buffers, drops undefined fields and refuses class instances", () => {
    const back = decodeMsgpack(encodeMsgpack({ b: Buffer.from([0, 255]), u: undefined, n: null }));
    expect(back).toEqual({ b: Buffer.from([0, 255]), n: null });
    expect(Buffer.isBuffer((back as { b: unknown }).b)).toBe(true);
    expect(() => encodeMsgpack({ m: new Map() }, { path: "out", label: "output" })).toThrow(
      /output "out\.m": msgpack cannot hold/,
    );
  });

  it("follows FLYTE_USE_OLD_DC_FORMAT as flytekit's str2bool reads it", () => {
    expect(defaultStructFormat({})).toBe("msgpack");
    for (const v of ["true", "T", "1"])
      expect(defaultStructFormat({ FLYTE_USE_OLD_DC_FORMAT: v })).toBe("struct");
    expect(defaultStructFormat({ FLYTE_USE_OLD_DC_FORMAT: "yes" })).toBe("msgpack");
  });

  it("reads both struct forms and says which binary tags it cannot read", () => {
    const site = { path: "x", label: "input" };
    expect(readStructLiteral(literal({ scalar: { generic: { a: 1 } } }), site)).toEqual({ a: 1 });
    expect(readStructLiteral(literal({ scalar: { primitive: { integer: 1n } } }), site)).toBeUndefined();
    expect(() =>
      readStructLiteral(
        literal({ scalar: { binary: { value: Buffer.from([0xc1]), tag: "msgpack" } } }),
        site,
      ),
    ).toThrow(/input "x": the msgpack bytes do not decode/);
  });

  it.runIf(python)("reads what Python's msgpack writes and writes what it reads back equal", () => {
    const hex = py(
      "print(msgpack.packb({'i': 7, 'f': 2.5, 'big': 2**63-1, 'neg': -2**63, 's': 'é☃', 'b': b'\\x00\\x01', " +
        "'l': [1, None, True], 'd': {'x': {'y': 0.1}}}).hex())",
    );
    const value = decodeMsgpack(Buffer.from(hex, "hex"));
    expect(value).toEqual({
      i: 7,
      f: 2.5,
      big: 2n ** 63n - 1n,
      neg: -(2n ** 63n),
      s: "é☃",
      b: Buffer.from([0, 1]),
      l: [1, null, true],
      d: { x: { y: 0.1 } },
    });
    const check =
      "v = msgpack.unpackb(bytes.fromhex(sys.stdin.read().strip()))\n" +
      "print(v == {'i': 7, 'f': 2.5, 'big': 2**63-1, 'neg': -2**63, 's': 'é☃', 'b': b'\\x00\\x01', " +
      "'l': [1, None, True], 'd': {'x': {'y': 0.1}}} and type(v['f']) is float and type(v['b']) is bytes)";
    expect(py(check, encodeMsgpack(value).toString("hex"))).toBe("True");
  });
});

describe("msgpack in untyped literals", () => {
  const structType = { simple: SimpleType.STRUCT, annotation: msgpackAnnotation() } as const;

  it("decodes flytekit's msgpack binary into the plain value", () => {
    const lit = literal({ scalar: { binary: { value: encodeMsgpack({ a: [1, "x"] }), tag: "msgpack" } } });
    expect(literalToPlain(lit)).toEqual({ a: [1, "x"] });
    const other = literal({ scalar: { binary: { value: Buffer.from([1, 2]), tag: "" } } });
    expect(literalToPlain(other)).toEqual(Buffer.from([1, 2]));
  });

  it("writes msgpack for an inferred or msgpack-annotated STRUCT, a Struct for a bare STRUCT", () => {
    expect(plainToLiteral({ a: 1 }).scalar?.binary?.tag).toBe("msgpack");
    expect(plainToLiteral({ a: 1 }, { ...structType } as never).scalar?.binary?.tag).toBe("msgpack");
    expect(plainToLiteral({ a: 1 }, { simple: SimpleType.STRUCT } as never).scalar?.generic).toEqual({
      a: 1,
    });
    expect(
      plainToLiteral({ a: 1 }, undefined, "out", "output", { structFormat: "struct" }).scalar?.generic,
    ).toEqual({ a: 1 });
  });

  it("writes back the exact timestamp of a datetime it decoded", () => {
    const lit = literal({
      scalar: { primitive: { datetime: { seconds: 1_700_000_000n, nanos: 123_456_789 } } },
    });
    const value = literalToPlain(lit);
    expect(value).toBeInstanceOf(PreciseDate);
    expect(plainToLiteral(value).scalar?.primitive?.datetime).toEqual({
      seconds: 1_700_000_000n,
      nanos: 123_456_789,
    });
  });
});
