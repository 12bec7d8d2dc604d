import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildImage } from "./docker.js";
import { type DockerfileOptions, inspectProject, renderDockerfile } from "./dockerfile.js";
import { ensureDir } from "./ensure-dir.js";
import { DeployError } from "./errors.js";
import { Kubectl } from "./kubectl.js";
import type { ManifestOptions } from "./manifests.js";
import {
  type CanaryChecks,
  type DeployPlan,
  executePlan,
  planCanary,
  planDeploy,
  planPromote,
  planRollback,
  planToYaml,
  writePlan,
} from "./plan.js";

/** Where `deploy` writes: stdout gets only YAML (pipe it to `kubectl apply -f -`), the rest goes to err. */
export interface DeployIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Environment of kubectl and docker. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Checks a canary must also pass before it is routed (see `executePlan`). */
  readonly canaryChecks?: CanaryChecks;
}

/** Inputs shared by `deploy`, `deploy promote` and `deploy rollback`. */
export interface CommonInput {
  readonly name: string;
  readonly namespace: string;
  readonly context: string | undefined;
  readonly agentId: string | undefined;
  /** A file holding the FlytePropeller ConfigMap (or its agent-service section). */
  readonly propellerConfigFile: string | undefined;
  /** The ConfigMap read with kubectl when applying without a file. */
  readonly propellerConfigMap: string;
  readonly propellerNamespace: string;
  readonly out: string | undefined;
  readonly apply: boolean;
  readonly checkEndpoint: string | undefined;
  readonly kubectl: string;
}

/** Inputs of `flyte-agent deploy`. */
export interface DeployInput extends CommonInput {
  readonly manifest: ManifestOptions;
  readonly canary: boolean;
  readonly build: boolean;
  readonly push: boolean;
  readonly dir: string;
  readonly docker: string;
}

function kubectlFor(input: CommonInput, io: DeployIo): Kubectl {
  return new Kubectl({
    bin: input.kubectl,
    namespace: input.namespace,
    ...(input.context ? { context: input.context } : {}),
    ...(io.env ? { env: io.env } : {}),
  });
}

async function readPropellerConfig(
  input: CommonInput,
  kubectl: Kubectl,
): Promise<{ text: string; source: string } | undefined> {
  if (input.propellerConfigFile) {
    try {
      return { text: await readFile(input.propellerConfigFile, "utf8"), source: input.propellerConfigFile };
    } catch (err) {
      throw new DeployError(
        `cannot read --propeller-config ${input.propellerConfigFile}: ${(err as Error).message}`,
      );
    }
  }
  if (!input.apply) return undefined;
  const text = await kubectl.getConfigMap(input.propellerConfigMap, input.propellerNamespace);
  return { text, source: `configmap/${input.propellerConfigMap}` };
}

function report(plan: DeployPlan, io: DeployIo, dryRun: boolean): void {
  for (const note of plan.notes) io.err(`note: ${note}\n`);
  if (plan.routing?.diff) io.err(`\n${plan.routing.diff}\n`);
  if (plan.routing && !plan.routing.configMap && plan.steps.length > 0) {
    io.err("note: the propeller config is not a ConfigMap, so it is printed for you to apply, not applied\n");
  }
  if (!dryRun) return;
  io.err(`\n${plan.action} plan (dry run; --apply runs it):\n`);
  for (const [i, step] of plan.steps.entries())
    io.err(`  ${i + 1}. ${step.description}\n     undo: ${step.undo}\n`);
}

async function output(
  plan: DeployPlan,
  input: CommonInput,
  io: DeployIo,
  extra: Record<string, string> = {},
) {
  if (input.apply) {
    const backupDir = await mkdtemp(join(tmpdir(), "flyte-agent-deploy-"));
    await executePlan(plan, {
      kubectl: kubectlFor(input, io),
      backupDir,
      ...(input.checkEndpoint ? { checkEndpoint: input.checkEndpoint } : {}),
      ...(io.canaryChecks ? { canaryChecks: io.canaryChecks } : {}),
      log: (line) => io.err(`${line}\n`),
    });
    if (plan.routing && !plan.routing.configMap) io.out(plan.routing.after);
    io.err(`${plan.action} done\n`);
    return;
  }
  if (input.out) {
    const files = await writePlan(plan, input.out);
    for (const [file, text] of Object.entries(extra)) {
      await writeFile(join(input.out, file), text);
      files.push(join(input.out, file));
    }
    io.err(`wrote ${files.join(", ")}\n`);
    return;
  }
  const yaml = planToYaml(plan);
  if (yaml) io.out(yaml);
  // A bare section is not an object kubectl can apply, so it is printed as its own document.
  if (plan.routing && !plan.routing.configMap) io.out(`${yaml ? "---\n" : ""}${plan.routing.after}`);
}

/**
 * Runs `flyte-agent deploy`: optionally builds the image, plans the stable or canary deployment and
 * then prints it (default), writes it to `out`, or applies it with kubectl.
 */
export async function runDeploy(input: DeployInput, io: DeployIo): Promise<void> {
  const kubectl = kubectlFor(input, io);
  const serving: DockerfileOptions = {
    ...(input.manifest.modules ? { modules: input.manifest.modules } : {}),
    ...(input.manifest.port !== undefined ? { port: input.manifest.port } : {}),
    ...(input.manifest.prometheusPort !== undefined ? { prometheusPort: input.manifest.prometheusPort } : {}),
    ...(input.manifest.gracePeriodSeconds !== undefined
      ? { gracePeriodSeconds: input.manifest.gracePeriodSeconds }
      : {}),
  };
  // The Dockerfile is the one `new` writes, fitted to the project: its lockfile, its build script.
  let dockerfile: string | undefined;
  if (input.build || input.out) {
    try {
      dockerfile = renderDockerfile({ ...serving, ...(await inspectProject(input.dir)) });
    } catch (err) {
      if (input.build || !(err instanceof DeployError)) throw err;
      io.err(`note: no Dockerfile written: ${err.message}\n`);
    }
  }
  if (input.build) {
    await ensureDir(input.dir, "--dir");
    const built = await buildImage({
      image: input.manifest.image,
      contextDir: resolve(input.dir),
      dockerfile: dockerfile!,
      push: input.push,
      bin: input.docker,
      ...(io.env ? { env: io.env } : {}),
    });
    if (built.built) {
      io.err(
        `built ${input.manifest.image}${built.pushed ? " and pushed it" : ""} (Dockerfile: ${built.dockerfilePath})\n`,
      );
    } else {
      // Nothing was built: that is a failure, even though the Dockerfile is ready for the user.
      throw new DeployError(
        `no container engine is reachable (\`${input.docker} info\` failed), so ${input.manifest.image} was not built; the Dockerfile is at ${built.dockerfilePath}: build and push it with:\n${built.instructions.map((c) => `  ${c}`).join("\n")}`,
      );
    }
  }
  const config = await readPropellerConfig(input, kubectl);
  const options = {
    ...input.manifest,
    ...(input.agentId ? { agentId: input.agentId } : {}),
    ...(config ? { propellerConfig: config.text, propellerSource: config.source } : {}),
  };
  const plan = input.canary ? planCanary(options) : planDeploy(options);
  report(plan, io, !input.apply);
  await output(plan, input, io, input.build || !dockerfile ? {} : { Dockerfile: dockerfile });
}

/** Runs `flyte-agent deploy promote` or `deploy rollback`. */
export async function runCanaryEnd(
  action: "promote" | "rollback",
  input: CommonInput & { readonly image?: string },
  io: DeployIo,
): Promise<void> {
  const kubectl = kubectlFor(input, io);
  const config = await readPropellerConfig(input, kubectl);
  const options = {
    name: input.name,
    namespace: input.namespace,
    ...(input.agentId ? { agentId: input.agentId } : {}),
    ...(input.image ? { image: input.image } : {}),
    ...(config ? { propellerConfig: config.text, propellerSource: config.source } : {}),
  };
  const plan = action === "promote" ? planPromote(options) : planRollback(options);
  report(plan, io, !input.apply);
  await output(plan, input, io);
}
