import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { DeployError } from "./errors.js";

/** Options of {@link buildImage}. */
export interface BuildImageOptions {
  /** `name:tag` of the image. */
  readonly image: string;
  /** Build context (the agent project). */
  readonly contextDir: string;
  /** Dockerfile text, written to `<contextDir>/Dockerfile` unless one is there already. */
  readonly dockerfile: string;
  /** Push after building. @default false */
  readonly push?: boolean;
  /** @default "docker" */
  readonly bin?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Overwrite an existing Dockerfile. @default false */
  readonly overwrite?: boolean;
}

/** What {@link buildImage} did. */
export interface BuildImageResult {
  /** True when an engine built (and maybe pushed) the image. */
  readonly built: boolean;
  readonly pushed: boolean;
  readonly dockerfilePath: string;
  /** Commands that build and push the image by hand (when no engine was reachable). */
  readonly instructions: readonly string[];
}

/** True when a container engine answers `docker info` (the client alone is not enough). */
export async function dockerEngineAvailable(
  bin = "docker",
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const r = await execa(bin, ["info", "--format", "{{.ServerVersion}}"], {
    reject: false,
    env,
    extendEnv: false,
    stdin: "ignore",
  });
  return r.exitCode === 0;
}

/**
 * Writes the Dockerfile (keeping one the project already has), then builds with `docker build` and
 * optionally pushes when an engine is reachable; otherwise returns the commands to run elsewhere.
 * @throws DeployError when the build or push fails.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const bin = options.bin ?? "docker";
  const env = options.env ?? process.env;
  const dockerfilePath = join(options.contextDir, "Dockerfile");
  try {
    await writeFile(dockerfilePath, options.dockerfile, { flag: options.overwrite ? "w" : "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const buildArgs = ["build", "-t", options.image, "-f", dockerfilePath, options.contextDir];
  const instructions = [
    `${bin} ${buildArgs.join(" ")}`,
    ...(options.push ? [`${bin} push ${options.image}`] : []),
  ];
  if (!(await dockerEngineAvailable(bin, env))) {
    return { built: false, pushed: false, dockerfilePath, instructions };
  }
  const run = async (args: string[]) => {
    const r = await execa(bin, args, {
      reject: false,
      env,
      extendEnv: false,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    if (r.exitCode !== 0) {
      throw new DeployError(`${bin} ${args[0]} failed: ${String(r.stderr).trim().split("\n").at(-1) ?? ""}`);
    }
  };
  await run(buildArgs);
  if (options.push) await run(["push", options.image]);
  return { built: true, pushed: options.push ?? false, dockerfilePath, instructions: [] };
}
