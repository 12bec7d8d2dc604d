import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";

/** Options every storage operation takes. */
export interface StorageCallOptions {
  /** Cancels the operation (pass the agent call's signal). */
  readonly signal?: AbortSignal;
}

/**
 * Reads and writes objects addressed by URI for one or more URI schemes. The local filesystem is built
 * in (`file://` and plain paths); cloud stores (`s3://`, `gs://`, ...) are added by packages that call
 * {@link registerStorageProvider} when imported.
 */
export interface StorageProvider {
  /** Schemes served, lower case, without `://` (e.g. `["s3"]`). */
  readonly schemes: readonly string[];
  /** True when an object (or a directory / prefix) exists at `uri`. */
  exists(uri: string, options?: StorageCallOptions): Promise<boolean>;
  /** The bytes of the object at `uri`. */
  read(uri: string, options?: StorageCallOptions): Promise<Uint8Array>;
  /** Writes `data` at `uri`, creating parent directories where the store has them. */
  write(uri: string, data: Uint8Array | string, options?: StorageCallOptions): Promise<void>;
}

/** Options of {@link registerStorageProvider}. */
export interface RegisterStorageOptions {
  /** Replace a provider already registered for one of the schemes. @default false */
  readonly override?: boolean;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * The scheme of a URI in lower case (`"s3"`), or `"file"` for a plain path. A Windows drive letter
 * (`C:\data`) is a path, not a scheme, because a scheme must be followed by `//`.
 */
export function uriScheme(uri: string): string {
  const m = SCHEME.exec(uri);
  return m ? m[1]!.toLowerCase() : "file";
}

/**
 * The absolute local path of a `file://` URI or a plain path (relative paths resolve against the
 * working directory).
 * @throws FlyteAgentError (`INVALID_CONFIG`) for a URI of another scheme.
 */
export function localPath(uri: string): string {
  const scheme = uriScheme(uri);
  if (scheme !== "file") {
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `${uri} is not a local path or file:// URI`);
  }
  return SCHEME.test(uri) ? fileURLToPath(uri) : resolve(uri);
}

function checkSignal(options: StorageCallOptions | undefined): void {
  options?.signal?.throwIfAborted();
}

/** The built-in provider: the local filesystem, for `file://` URIs and plain paths. */
export const localFileStorage: StorageProvider = {
  schemes: ["file"],
  async exists(uri, options) {
    checkSignal(options);
    try {
      await access(localPath(uri));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return false;
      throw err;
    }
  },
  async read(uri, options) {
    checkSignal(options);
    return readFile(localPath(uri), options?.signal ? { signal: options.signal } : {});
  },
  async write(uri, data, options) {
    checkSignal(options);
    const path = localPath(uri);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data, options?.signal ? { signal: options.signal } : {});
  },
};

const registryKey = Symbol.for("flyte-agent.storage.providers");

/** Providers by scheme, shared through `globalThis` so two copies of the library see the same ones. */
function providers(): Map<string, StorageProvider> {
  const g = globalThis as { [registryKey]?: Map<string, StorageProvider> };
  return (g[registryKey] ??= new Map([["file", localFileStorage]]));
}

/**
 * Makes a storage provider available for its schemes (a cloud storage package calls this when
 * imported).
 * @throws FlyteAgentError (`INVALID_CONFIG`) when a scheme is already served and `override` is not set.
 */
export function registerStorageProvider(
  provider: StorageProvider,
  options: RegisterStorageOptions = {},
): void {
  const byScheme = providers();
  for (const raw of provider.schemes) {
    const scheme = raw.toLowerCase();
    const existing = byScheme.get(scheme);
    if (existing && existing !== provider && !options.override) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `a storage provider for ${scheme}:// is already registered (pass { override: true } to replace it)`,
      );
    }
  }
  for (const scheme of provider.schemes) byScheme.set(scheme.toLowerCase(), provider);
}

/** The schemes that can be read and written in this process, sorted. */
export function storageSchemes(): string[] {
  return [...providers().keys()].sort();
}

/**
 * The provider for a URI.
 * @throws FlyteAgentError (`INVALID_CONFIG`) naming the scheme and the registered ones when no
 *   provider serves it.
 */
export function storageFor(uri: string): StorageProvider {
  const scheme = uriScheme(uri);
  const provider = providers().get(scheme);
  if (!provider) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `no storage provider for ${scheme}:// URIs such as ${uri} (available: ${storageSchemes()
        .map((s) => `${s}://`)
        .join(", ")}); import a package that registers one`,
    );
  }
  return provider;
}

/** True when something exists at `uri` (any registered scheme). */
export function exists(uri: string, options?: StorageCallOptions): Promise<boolean> {
  return storageFor(uri).exists(uri, options);
}

/** Reads the object at `uri` (any registered scheme). */
export function readObject(uri: string, options?: StorageCallOptions): Promise<Uint8Array> {
  return storageFor(uri).read(uri, options);
}

/** Writes an object at `uri` (any registered scheme). */
export function writeObject(
  uri: string,
  data: Uint8Array | string,
  options?: StorageCallOptions,
): Promise<void> {
  return storageFor(uri).write(uri, data, options);
}

/** Joins a prefix (URI or path) and a relative key with exactly one `/`. */
export function joinUri(prefix: string, ...parts: string[]): string {
  return [prefix.replace(/\/+$/, ""), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ""))].join("/");
}
