import type { Logger as PinoLogger } from "pino";

/** Options of {@link createServerLogger}. */
export interface ServerLoggerOptions {
  /** pino level. @default "info" (or `$LOG_LEVEL`) */
  readonly level?: string;
  /** Where the JSON lines go. @default standard output */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Keys whose values never reach the log, at the top level or one object down (pino's redaction is
 * path-based). Agents get secrets through `getAgentSecret`, never from a request; these catch the
 * accidental `logger.info({ config })`.
 */
export const redactedKeys = [
  "password",
  "secret",
  "secrets",
  "token",
  "apiKey",
  "api_key",
  "authorization",
  "credentials",
  "privateKey",
  "private_key",
  "environmentVariables",
] as const;

/**
 * The server's structured logger: one JSON object per line (pino), ISO timestamps, secret-looking
 * keys redacted. Each call's lines carry `op`, `task_type` and, when FlytePropeller sent one,
 * `task_execution_id`.
 */
export async function createServerLogger(options: ServerLoggerOptions = {}): Promise<PinoLogger> {
  const { pino } = await import("pino");
  const paths = redactedKeys.flatMap((k) => [k, `*.${k}`]);
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
