import type { ParseConfigOptions, PropellerAgentConfig } from "../propeller/config.js";
import { parseDuration } from "../types/duration.js";
import { CliError, UsageError } from "./errors.js";

/**
 * The one reader of duration flags, for every flag of every command: `5s`, `250ms`, `1m30s`, `10m`,
 * or a bare number of seconds. Resolves to milliseconds; negative durations are refused.
 */
export function durationFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0)
    throw new UsageError(`${flag} must be a duration like 30s, 500ms or 10m (or seconds), got "${text}"`);
  return ms;
}

/** {@link durationFlag} in seconds, for flags whose options count seconds. */
export function secondsFlag(flag: string, text: string | undefined): number | undefined {
  const ms = durationFlag(flag, text);
  return ms === undefined ? undefined : ms / 1000;
}

/**
 * The one reader of list flags, as commander's argument parser: every list flag takes
 * comma-separated values, repeated or not (`-m a.ts,b.ts -m c.ts`).
 */
export function listFlag(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/** A repeatable flag whose values may hold commas (`--env KEY=a,b`). */
export function repeatFlag(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Checks that something listens at an `--endpoint` (`host:port`, `dns:///host:port`) before a task is
 * created there, so an unreachable server is one sentence naming the address instead of gRPC's
 * "No connection established" after the retries.
 */
export async function checkEndpointReachable(
  flag: string,
  endpoint: string,
  timeoutMs = 5000,
): Promise<void> {
  const m = /^(?:dns:\/\/\/|dns:)?(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(endpoint.trim());
  if (!m) throw new UsageError(`${flag} must be host:port (or dns:///host:port), got "${endpoint}"`);
  const host = m[1]!.replace(/^\[|\]$/g, "");
  const port = Number(m[2]);
  const { connect } = await import("node:net");
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const fail = (why: string) => {
      socket.destroy();
      reject(
        new CliError(
          `no agent server answers at ${host}:${port} (${why}): start one (flyte-agent serve agent) or fix ${flag}`,
        ),
      );
    };
    socket.once("connect", () => {
      socket.end();
      resolve();
    });
    socket.once("timeout", () => fail(`no answer in ${timeoutMs / 1000}s`));
    socket.once("error", (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
  });
}

/** An "Examples:" block for a command's --help: `[command, what it does]` pairs. */
export function examplesHelp(examples: readonly (readonly [string, string])[]): string {
  const width = Math.max(...examples.map(([c]) => c.length));
  return `\nExamples:\n${examples.map(([c, what]) => `  ${c.padEnd(width)}  # ${what}`).join("\n")}\n`;
}

/** The TLS flags `run` and `conformance` share. */
export interface TlsFlags {
  tls?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
}

/** The TLS files of {@link TlsFlags}, as the agent client's `TlsOptions` takes them. */
export type TlsFiles = Omit<TlsFlags, "tls">;

/** TLS settings from the flags: files imply TLS; `--tls` alone means system roots. */
export function tlsFromFlags(flags: TlsFlags): boolean | TlsFiles {
  const files = {
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    ...(flags.certFile ? { certFile: flags.certFile } : {}),
    ...(flags.keyFile ? { keyFile: flags.keyFile } : {}),
    ...(flags.serverName ? { serverName: flags.serverName } : {}),
  };
  return Object.keys(files).length > 0 ? files : flags.tls === true;
}

/** Reads `--retries`: a non-negative integer. */
export function retriesFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const retries = Number(text);
  if (!Number.isSafeInteger(retries) || retries < 0)
    throw new UsageError(`--retries must be a non-negative integer, got "${text}"`);
  return retries;
}

/** Reads and parses the FlytePropeller ConfigMap given to `--config`, naming the file when it cannot. */
export async function configFlag(
  file: string | undefined,
  options: ParseConfigOptions = {},
): Promise<PropellerAgentConfig | undefined> {
  if (!file) return undefined;
  const { readFile } = await import("node:fs/promises");
  const { parsePropellerConfig } = await import("../propeller/config.js");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UsageError(`cannot read --config ${file}`);
  }
  return parsePropellerConfig(text, file, options);
}
