import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, type AgentContext } from "../core/context.js";
import { registerStorageProvider, type StorageProvider } from "../storage/storage.js";
import { FileSensor } from "./file-sensor.js";

const context = (): AgentContext => ({
  signal: new AbortController().signal,
  logger: silentLogger,
  outputPrefix: "",
});

describe("FileSensor", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "file-sensor-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("sees a file appear at a local path", async () => {
    const sensor = new FileSensor({});
    const path = join(dir, "a.txt");
    expect(await sensor.poke({ path }, context())).toBe(false);
    await writeFile(path, "ready");
    expect(await sensor.poke({ path }, context())).toBe(true);
  });

  it("sees a file appear at a file:// URI, also given as a blob value", async () => {
    const sensor = new FileSensor({});
    const uri = pathToFileURL(join(dir, "b with space.txt")).href;
    expect(await sensor.poke({ path: { uri } }, context())).toBe(false);
    await writeFile(join(dir, "b with space.txt"), "ready");
    expect(await sensor.poke({ path: uri }, context())).toBe(true);
  });

  it("says which schemes exist when no storage provider serves the URI", async () => {
    await expect(new FileSensor({}).poke({ path: "s3://bucket/key" }, context())).rejects.toThrow(
      /no storage provider for s3:\/\/ URIs .*available: .*file:\/\//,
    );
  });

  it("uses a storage provider registered for another scheme", async () => {
    const objects = new Set<string>();
    const provider: StorageProvider = {
      schemes: ["memtest"],
      exists: async (uri) => objects.has(uri),
      read: async () => new Uint8Array(),
      write: async (uri) => void objects.add(uri),
    };
    registerStorageProvider(provider);
    const sensor = new FileSensor({});
    expect(await sensor.poke({ path: "memtest://bucket/x" }, context())).toBe(false);
    objects.add("memtest://bucket/x");
    expect(await sensor.poke({ path: "memtest://bucket/x" }, context())).toBe(true);
    expect(() => registerStorageProvider({ ...provider })).toThrow(/already registered/);
  });

  it("rejects an empty path", async () => {
    await expect(new FileSensor({}).poke({ path: "" }, context())).rejects.toThrow(/non-empty `path`/);
  });
});
