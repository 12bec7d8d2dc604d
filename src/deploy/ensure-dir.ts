import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";

/**
 * Creates `dir` and its missing parents one level at a time. Node's `mkdir({ recursive: true })`
 * retries forever where the kernel answers ENOENT for a parent that exists (`/proc/x`), and its
 * ENOTDIR/ENOENT messages name no flag; this names `label` (the flag or option given the path) and
 * says what to do. `dir` is the path as the user gave it, for the message.
 *
 * @throws FlyteAgentError (`INVALID_CONFIG`) when a parent is a file or a directory cannot be created.
 */
export async function ensureDir(path: string, label: string, dir = path): Promise<void> {
  const target = resolve(path);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    try {
      const s = await stat(at);
      if (!s.isDirectory()) {
        throw new FlyteAgentError(
          ErrorCode.INVALID_CONFIG,
          `${label} ${dir}: ${at} is a file, not a directory; choose another path`,
        );
      }
      break;
    } catch (err) {
      if (err instanceof FlyteAgentError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(at) === at)
        throw cannotCreate(dir, label, code);
      missing.unshift(at);
      at = dirname(at);
    }
  }
  for (const d of missing) {
    try {
      await mkdir(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") throw cannotCreate(dir, label, code);
    }
  }
}

function cannotCreate(dir: string, label: string, code: string | undefined): FlyteAgentError {
  return new FlyteAgentError(
    ErrorCode.INVALID_CONFIG,
    `cannot create ${label} ${dir} (${code ?? "unknown error"}): choose a directory you can write to`,
  );
}
