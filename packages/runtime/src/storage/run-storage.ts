import { mkdir } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { exists, joinUri, localPath, readObject, uriScheme, writeObject } from "./storage.js";

/**
 * How the executor and conformance reach inputs and outputs: through `src/storage`'s providers, so
 * a registered `s3://` (or any other) provider is honoured as it is by agents; local paths and
 * `file://` URIs are built in.
 */
export const runStorage = {
  /** Joins a prefix and a file name the way the store spells it. */
  join(prefix: string, name: string): string {
    return joinUri(prefix, name);
  },
  /** Creates the prefix where the store has directories (local files); a no-op elsewhere. */
  async ensurePrefix(prefix: string): Promise<void> {
    if (uriScheme(prefix) === "file") await mkdir(localPath(prefix), { recursive: true });
  },
  write(uri: string, bytes: Uint8Array): Promise<void> {
    return writeObject(uri, bytes);
  },
  /** The bytes at `uri`, or `undefined` when nothing is there. */
  async read(uri: string): Promise<Buffer | undefined> {
    if (!(await exists(uri))) return undefined;
    return Buffer.from(await readObject(uri));
  },
  /** The size in bytes, or `undefined` when nothing is there. */
  async size(uri: string): Promise<number | undefined> {
    return (await this.read(uri))?.length;
  },
};

/** A local directory as the `file://` URI agents receive as an output prefix. */
export function localPrefix(dir: string): string {
  return pathToFileURL(dir).href;
}
