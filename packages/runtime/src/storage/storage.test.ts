import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exists, joinUri, localPath, readObject, uriScheme, writeObject } from "./storage.js";

describe("storage", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "storage-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("treats plain paths and Windows drive letters as local files", () => {
    expect(uriScheme("/tmp/x")).toBe("file");
    expect(uriScheme("C:\\data\\x")).toBe("file");
    expect(uriScheme("S3://Bucket/k")).toBe("s3");
    expect(localPath("rel/x")).toBe(resolve("rel/x"));
    expect(localPath("file:///tmp/a%20b")).toBe("/tmp/a b");
    expect(() => localPath("gs://b/k")).toThrow(/not a local path/);
  });

  it("writes, reads and checks objects under a file:// prefix, creating directories", async () => {
    const prefix = pathToFileURL(dir).href;
    const uri = joinUri(prefix, "/deep/", "out.txt");
    expect(await exists(uri)).toBe(false);
    await writeObject(uri, "hello");
    expect(await exists(uri)).toBe(true);
    expect(Buffer.from(await readObject(join(dir, "deep", "out.txt"))).toString()).toBe("hello");
  });

  it("stops before touching the disk when the signal has fired", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(exists(join(dir, "x"), { signal: controller.signal })).rejects.toThrow("stop");
  });
});
