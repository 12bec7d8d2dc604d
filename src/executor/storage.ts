import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Where the executor keeps inputs and reads outputs. Only local prefixes are built in: a `file://` URI
 * or a plain path. Another store (an object store, a fake) can be passed to `executeTask`.
 */
export interface ExecutorStorage {
  /** Joins a prefix and a file name the way the store spells it. */
  join(prefix: string, name: string): string;
  /** Creates the prefix if the store needs it (a directory for local files). */
  ensurePrefix(prefix: string): Promise<void>;
  write(uri: string, bytes: Uint8Array): Promise<void>;
  /** The bytes at `uri`, or `undefined` when nothing is there. */
  read(uri: string): Promise<Buffer | undefined>;
  /** The size in bytes, or `undefined` when nothing is there. */
  size(uri: string): Promise<number | undefined>;
}

function toPath(uri: string): string {
  return uri.startsWith("file://") ? fileURLToPath(uri) : uri;
}

/** The local-filesystem store: prefixes are `file://` URIs or plain paths. */
export const localStorage: ExecutorStorage = {
  join(prefix, name) {
    return prefix.startsWith("file://") ? `${prefix.replace(/\/+$/, "")}/${name}` : join(prefix, name);
  },
  async ensurePrefix(prefix) {
    await mkdir(toPath(prefix), { recursive: true });
  },
  async write(uri, bytes) {
    const path = toPath(uri);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  },
  async read(uri) {
    try {
      return await readFile(toPath(uri));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  },
  async size(uri) {
    try {
      return (await stat(toPath(uri))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  },
};

/** A local directory as the `file://` URI agents receive as an output prefix. */
export function localPrefix(dir: string): string {
  return pathToFileURL(dir).href;
}
