import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, FlyteAgentError } from "./errors.js";

/** Where secrets are looked up. Every field has an environment-variable default, as in flytekit. */
export interface SecretsOptions {
  /** Prefix of the environment variable (`_FSEC_<KEY>`). @default env FLYTE_SECRETS_ENV_PREFIX or "_FSEC_" */
  readonly envPrefix?: string;
  /** Directory of mounted secret files (`<dir>/<key>`). @default env FLYTE_SECRETS_DEFAULT_DIR or "/etc/secrets" */
  readonly directory?: string;
  /**
   * Also read the bare `<KEY>` variable (local runs only: a server never does, so a stray variable on a
   * pod cannot shadow a mounted secret). @default true when env FLYTE_AGENT_LOCAL is "1"
   */
  readonly local?: boolean;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Resolves a secret in flytekit's order: env `_FSEC_<KEY>`, then (local runs) env `<KEY>`, then the
 * file `/etc/secrets/<key>` (trailing newline trimmed). The value is never logged.
 * @throws FlyteAgentError (`SECRET_NOT_FOUND`) naming every place that was tried.
 */
export async function getAgentSecret(key: string, options: SecretsOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const prefix = options.envPrefix ?? env.FLYTE_SECRETS_ENV_PREFIX ?? "_FSEC_";
  const directory = options.directory ?? env.FLYTE_SECRETS_DEFAULT_DIR ?? "/etc/secrets";
  const local = options.local ?? env.FLYTE_AGENT_LOCAL === "1";
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) {
    throw new FlyteAgentError(ErrorCode.SECRET_NOT_FOUND, `invalid secret key ${JSON.stringify(key)}`);
  }
  const tried: string[] = [];
  const envName = `${prefix}${key}`.toUpperCase();
  tried.push(`env ${envName}`);
  const fromEnv = env[envName];
  if (fromEnv !== undefined) return fromEnv;
  if (local) {
    const bare = key.toUpperCase();
    tried.push(`env ${bare}`);
    const v = env[bare];
    if (v !== undefined) return v;
  }
  const file = join(directory, key);
  tried.push(`file ${file}`);
  try {
    return (await readFile(file, "utf8")).replace(/\r?\n$/, "");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  throw new FlyteAgentError(
    ErrorCode.SECRET_NOT_FOUND,
    `secret "${key}" not found (tried ${tried.join(", ")})`,
  );
}
