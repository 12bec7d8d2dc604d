import { ErrorCode, FlyteAgentError } from "./errors.js";

/**
 * How Python wrote a JSON object or array that {@link parsePythonJson} read: which integral numbers
 * were floats (`2.0`) or ints (`2`), and the order of the keys. JS has one number type and puts
 * integer-like keys first, so without this a decode/encode round trip would not give the same bytes.
 */
interface JsonForm {
  /** Per key (or array index): true when the number was written as a float. */
  readonly floats: Map<string, boolean>;
  /** Object keys in the order they were written. */
  readonly keys?: readonly string[];
}

const forms = new WeakMap<object, JsonForm>();

function invalid(message: string): FlyteAgentError {
  return new FlyteAgentError(ErrorCode.INVALID_RESOURCE_META, message);
}

/** How deep arrays and objects may nest in resource_meta: Python's default recursion limit. */
const MAX_DEPTH = 1000;

/**
 * Parses JSON as Python's `json.loads` does, exactly: integers of any size (a `number` while a double
 * holds it exactly, else a `bigint`), floats as numbers, `NaN`/`Infinity`/`-Infinity`, and duplicate
 * keys resolved to the last. Remembers how each number and key order was written, so
 * {@link pythonJsonDumps} writes the same bytes back for the same (or a copied) value.
 * @throws FlyteAgentError (`INVALID_RESOURCE_META`) naming the offset of the first error.
 */
export function parsePythonJson(text: string): unknown {
  const plain = parsePlain(text);
  return plain === notPlain ? parseExactly(text) : plain;
}

const notPlain = Symbol("not plain");

/**
 * `JSON.parse`, when its result is what {@link parseExactly} would give and needs no form: no
 * numbers (JSON.parse cannot tell `2` from `2.0` nor hold a large integer), no integer-like keys
 * (which JavaScript orders first), nesting within Python's limit. Most resource metas are strings
 * only (job ids, URLs), and they are decoded on every GetTask; anything else, invalid JSON included,
 * goes to the exact parser.
 */
function parsePlain(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return notPlain;
  }
  return isPlain(value, 0) ? value : notPlain;
}

function isPlain(value: unknown, depth: number): boolean {
  if (typeof value === "number") return false;
  if (typeof value !== "object" || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const v of value) if (!isPlain(v, depth + 1)) return false;
    return true;
  }
  for (const key in value) {
    if (integerLike.test(key) || !isPlain((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

const integerLike = /^\d+$/;

/** The parser behind {@link parsePythonJson}: every number's form, key order and error offset. */
function parseExactly(text: string): unknown {
  let i = 0;
  let depth = 0;
  const fail = (what: string): never => {
    throw invalid(`resource_meta is not valid JSON: ${what} at offset ${i}`);
  };
  const ws = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  // Python's json.loads gives up past its recursion limit (1000 by default) with a RecursionError;
  // so does this parser, before JavaScript's own stack would.
  const enter = (): void => {
    if (++depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} arrays or objects`);
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const literal = (word: string, value: unknown): unknown => {
    if (!text.startsWith(word, i)) fail("unexpected token");
    i += word.length;
    return value;
  };
  // The value, and whether it is a number Python wrote as a float.
  const value = (): [unknown, boolean] => {
    ws();
    const c = text[i];
    switch (c) {
      case "{": {
        i++;
        enter();
        const obj: Record<string, unknown> = {};
        const keys: string[] = [];
        const floats = new Map<string, boolean>();
        ws();
        if (text[i] === "}") {
          i++;
        } else {
          for (;;) {
            ws();
            if (text[i] !== '"') fail("expected a string key");
            const key = string();
            ws();
            if (text[i++] !== ":") fail("expected ':'");
            const [v, isFloat] = value();
            if (!Object.hasOwn(obj, key)) keys.push(key);
            // defineProperty: a "__proto__" key is data, not the prototype.
            Object.defineProperty(obj, key, {
              value: v,
              enumerable: true,
              writable: true,
              configurable: true,
            });
            if (typeof v === "number") floats.set(key, isFloat);
            ws();
            if (text[i] === ",") i++;
            else if (text[i] === "}") {
              i++;
              break;
            } else fail("expected ',' or '}'");
          }
        }
        forms.set(obj, { floats, keys });
        depth--;
        return [obj, false];
      }
      case "[": {
        i++;
        enter();
        const arr: unknown[] = [];
        const floats = new Map<string, boolean>();
        ws();
        if (text[i] === "]") {
          i++;
        } else {
          for (;;) {
            const [v, isFloat] = value();
            if (typeof v === "number") floats.set(String(arr.length), isFloat);
            arr.push(v);
            ws();
            if (text[i] === ",") i++;
            else if (text[i] === "]") {
              i++;
              break;
            } else fail("expected ',' or ']'");
          }
        }
        forms.set(arr, { floats });
        depth--;
        return [arr, false];
      }
      case '"':
        return [string(), false];
      case "t":
        return [literal("true", true), false];
      case "f":
        return [literal("false", false), false];
      case "n":
        return [literal("null", null), false];
      case "N":
        return [literal("NaN", Number.NaN), true];
      case "I":
        return [literal("Infinity", Number.POSITIVE_INFINITY), true];
      default: {
        if (text.startsWith("-Infinity", i)) return [literal("-Infinity", Number.NEGATIVE_INFINITY), true];
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (!m) return fail("unexpected character");
        i += m[0].length;
        if (m[1] === undefined && m[2] === undefined) {
          const n = BigInt(m[0]);
          const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
          return [safe ? Number(n) : n, false];
        }
        return [Number(m[0]), true];
      }
    }
  };
  const string = (): string => {
    i++; // opening quote
    let out = "";
    for (;;) {
      const c = text[i++];
      if (c === undefined) return fail("unterminated string");
      if (c === '"') return out;
      if (c < " ") return fail("control character in a string");
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = text[i++];
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          fail("bad escape");
      }
    }
  };
  const [result] = value();
  ws();
  if (i !== text.length) fail("extra data");
  return result;
}

/**
 * Copies what {@link parsePythonJson} remembered about `from` onto `to`, a copy of it (for example
 * the output of a zod schema), wherever `to` still holds the same numbers and keys.
 */
export function carryJsonForm(from: unknown, to: unknown): void {
  // The same object keeps its own form.
  if (typeof from !== "object" || from === null || typeof to !== "object" || to === null || from === to)
    return;
  const form = forms.get(from);
  const src = from as Record<string, unknown>;
  const dst = to as Record<string, unknown>;
  if (form) {
    const floats = new Map<string, boolean>();
    for (const [k, isFloat] of form.floats) if (dst[k] === src[k]) floats.set(k, isFloat);
    forms.set(to, { floats, ...(form.keys ? { keys: form.keys } : {}) });
  }
  for (const k of Object.keys(dst)) if (Object.hasOwn(src, k)) carryJsonForm(src[k], dst[k]);
}

/**
 * Marks an integral number as a float (written `2.0`) unless its form is already known, as Python
 * writes a value of a `float` field.
 */
export function markFloat(container: object, key: string): void {
  const form = forms.get(container);
  if (form?.floats.has(key)) return;
  if (form) form.floats.set(key, true);
  else forms.set(container, { floats: new Map([[key, true]]) });
}

/**
 * Serializes a JSON value exactly as Python's `json.dumps(value)` does with its defaults: `", "` and
 * `": "` separators; non-ASCII and control characters escaped as lowercase `\uXXXX`; keys in insertion
 * order (in the order read, for objects {@link parsePythonJson} made); integers of any size
 * (`bigint` included) as integers; floats by Python's `repr` (`1e-07`, `1e+16`, `2.0` for an integral
 * float read as one or marked with {@link markFloat}); `NaN`, `Infinity`, `-Infinity` as Python
 * writes them.
 * @throws FlyteAgentError for values JSON cannot hold (functions, symbols, class instances).
 */
export function pythonJsonDumps(value: unknown): string {
  return dump(value, "$", false);
}

function dump(value: unknown, path: string, isFloat: boolean): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return quote(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      return pythonNumber(value, isFloat);
    case "object": {
      if (value instanceof Date) return quote(value.toISOString());
      const form = forms.get(value);
      const floatAt = (k: string): boolean => form?.floats.get(k) ?? false;
      if (Array.isArray(value)) {
        const items = value.map((v, i) => dump(v, `${path}[${i}]`, floatAt(String(i))));
        return `[${items.join(", ")}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = form?.keys
        ? [
            ...form.keys.filter((k) => Object.hasOwn(record, k)),
            ...Object.keys(record).filter((k) => !form.keys!.includes(k)),
          ]
        : Object.keys(record);
      const parts: string[] = [];
      for (const k of keys) {
        const v = record[k];
        if (v === undefined) continue; // as JSON.stringify: an absent optional field
        parts.push(`${quote(k)}: ${dump(v, `${path}.${k}`, floatAt(k))}`);
      }
      return `{${parts.join(", ")}}`;
    }
    default:
      throw invalid(`resource meta field ${path} is a ${typeof value}, which JSON cannot hold`);
  }
}

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    // UTF-16 code units, so astral characters become a surrogate pair, as in Python.
    else out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + '"';
}

/** An int as Python's `int.__repr__`, a float as `float.__repr__` (and json's NaN/Infinity). */
function pythonNumber(n: number, isFloat: boolean): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(n) && !isFloat) return BigInt(n).toString();
  // Shortest round-trip digits, then Python's repr layout: scientific when exp < -4 or exp >= 16.
  const [mantissa, expText] = n.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const fixed = Object.is(n, -0) ? "-0" : String(n);
  return Number.isInteger(n) ? `${fixed}.0` : fixed;
}
