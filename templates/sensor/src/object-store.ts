import { access } from "node:fs/promises";

/**
 * A stand-in for the system this sensor watches, so this project runs and its tests pass before it is
 * wired to a real one: it looks at the local filesystem. Replace it with your store's client (see
 * "Call the real API here" in agent.ts), e.g. an object store's "head object" call.
 */

/** The calls the sensor makes; your real client implements the same. */
export interface ObjectStore {
  /** True once the object exists. */
  exists(path: string, signal: AbortSignal): Promise<boolean>;
}

/** Checks paths on the local filesystem. */
export class LocalObjectStore implements ObjectStore {
  async exists(path: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  }
}
