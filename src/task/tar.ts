import { gunzipSync } from "node:zlib";

/** One regular file of a tar archive. */
export interface TarFile {
  /** The member's path inside the archive (pax `path` or GNU long name when present). */
  readonly name: string;
  readonly data: Uint8Array;
}

/** A tar archive could not be read; the message says why in one sentence. */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarError";
  }
}

const BLOCK = 512;
/** The most a `.tgz` may inflate to: task archives are small, a fast-registration source archive less so. */
const MAX_INFLATED_BYTES = 512 * 1024 * 1024;

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString("utf8");
}

function octal(block: Uint8Array, start: number, length: number, what: string): number {
  if ((block[start]! & 0x80) !== 0)
    throw new TarError(`the archive's ${what} uses base-256, which is not supported`);
  const digits = text(block, start, length).trim();
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarError(`the archive has a corrupt header (${what} "${digits}")`);
  return parseInt(digits, 8);
}

function checksumOk(block: Uint8Array): boolean {
  const digits = text(block, 148, 8).trim();
  if (!/^[0-7]+$/.test(digits)) return false;
  const stored = parseInt(digits, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** Reads pax extended-header records (`"<len> <key>=<value>\n"`). */
function paxRecords(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const buf = Buffer.from(data);
  let at = 0;
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(buf.subarray(at, space).toString("ascii"));
    if (!Number.isSafeInteger(length) || length <= 0 || at + length > buf.length)
      throw new TarError("the archive has a corrupt pax header");
    const record = buf.subarray(space + 1, at + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/**
 * The regular files of a tar archive, gzip-compressed or not (ustar, with the pax and GNU long-name
 * extensions Python's `tarfile` writes for long names). Directories, links and devices are skipped.
 * @throws TarError when the bytes are not a readable archive.
 */
export function readTar(bytes: Uint8Array): TarFile[] {
  let tar = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      tar = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (err) {
      throw new TarError(`the archive is not valid gzip (${(err as Error).message})`);
    }
  }
  if (tar.length < BLOCK) throw new TarError("it is too short to be a tar archive");
  const files: TarFile[] = [];
  let longName: string | undefined;
  let pax = new Map<string, string>();
  const globalPax = new Map<string, string>();
  let at = 0;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header))
      throw new TarError(
        at === 0 ? "it is not a tar archive" : "the archive has a header with a bad checksum",
      );
    const size = octal(header, 124, 12, "size");
    const type = String.fromCharCode(header[156]!);
    const start = at + BLOCK;
    if (start + size > tar.length) throw new TarError("the archive is truncated");
    const data = tar.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      pax = paxRecords(data);
      continue;
    }
    if (type === "g") {
      for (const [k, v] of paxRecords(data)) globalPax.set(k, v);
      continue;
    }
    if (type === "L") {
      longName = text(data, 0, data.length);
      continue;
    }
    const prefix = text(header, 257, 6).startsWith("ustar") ? text(header, 345, 155) : "";
    const plain = prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100);
    const name = pax.get("path") ?? longName ?? globalPax.get("path") ?? plain;
    pax = new Map();
    longName = undefined;
    if (type === "0" || type === "\0" || type === "7") files.push({ name, data: new Uint8Array(data) });
  }
  return files;
}
