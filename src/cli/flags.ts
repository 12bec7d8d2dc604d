import type { TlsOptions } from "../client/agent-client.js";
import { UsageError } from "./errors.js";

/** Reads `5s`, `250ms`, `1m30s`, or a bare number of seconds. */
export async function durationFlag(flag: string, text: string | undefined): Promise<number | undefined> {
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const { parseGoDuration } = await import("../propeller/duration.js");
  try {
    return parseGoDuration(text);
  } catch {
    throw new UsageError(`${flag} must be a duration like 30s, 500ms or 2m, got "${text}"`);
  }
}

/** The TLS flags `run` and `conformance` share. */
export interface TlsFlags {
  tls?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
}

/** TLS settings from the flags: files imply TLS; `--tls` alone means system roots. */
export function tlsFromFlags(flags: TlsFlags): boolean | TlsOptions {
  const files = {
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    ...(flags.certFile ? { certFile: flags.certFile } : {}),
    ...(flags.keyFile ? { keyFile: flags.keyFile } : {}),
    ...(flags.serverName ? { serverName: flags.serverName } : {}),
  };
  return Object.keys(files).length > 0 ? files : flags.tls === true;
}
