import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { type Document, isMap, parseAllDocuments } from "yaml";
import type { CommonInput, DeployInput } from "../../deploy/deploy-command.js";
import type { EndpointCheck } from "../../deploy/check-endpoint.js";
import type { FlyteTarget } from "../../deploy/plan.js";
import { UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";
import { examplesHelp, listFlag, repeatFlag, secondsFlag } from "@flyte-agent/runtime/internal/cli/flags.js";

interface CommonFlags {
  name: string;
  namespace: string;
  context?: string;
  agentId?: string;
  propellerConfig?: string;
  propellerConfigmap: string;
  propellerNamespace: string;
  out?: string;
  apply?: boolean;
  checkEndpoint?: string;
  kubectl: string;
}

interface DeployFlags extends CommonFlags {
  image?: string;
  replicas: string;
  taskTypes: string[];
  modules: string[];
  port: string;
  prometheusPort: string;
  gracePeriod: string;
  cpu?: string;
  memory?: string;
  cpuLimit?: string;
  memoryLimit?: string;
  secret?: string;
  env: string[];
  headless?: boolean;
  hpaMax?: string;
  hpaMin?: string;
  hpaCpu?: string;
  pdbMinAvailable?: string;
  serviceAccount?: string;
  canary?: boolean;
  build?: boolean;
  push?: boolean;
  dir: string;
  docker: string;
  flyte: string;
  flyte2Configmap?: string;
  flyte2Namespace: string;
  flyte2Project?: string;
  flyte2Domain?: string;
}

const stdio = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
  canaryChecks: conformanceChecks,
};

/**
 * The server-wide conformance checks a canary must pass besides its own (GetAgent agrees with
 * ListAgents, NOT_FOUND for unknown categories...); health and ListAgents the canary check did already.
 */
async function conformanceChecks(address: string): Promise<EndpointCheck[]> {
  const { checkConformance } = await import("../../conformance/check-conformance.js");
  const report = await checkConformance({ endpoint: address });
  return report.checks
    .filter((c) => c.id !== "health" && c.id !== "list-agents")
    .map((c) => ({
      name: `conformance ${c.id}`,
      ok: c.status !== "fail",
      detail: c.status === "warn" ? `warning: ${c.evidence}` : c.evidence,
    }));
}

function int(label: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${label} must be an integer, got ${JSON.stringify(text)}`);
  return n;
}

function common(cmd: Command): Command {
  return cmd
    .option("--name <name>", "name of the stable Deployment and Service", "flyte-agent")
    .option("-n, --namespace <ns>", "namespace of the agent", "flyte")
    .option("--context <context>", "kubeconfig context for kubectl")
    .option("--agent-id <id>", "deployment id in the propeller config (default: --name)")
    .option(
      "--propeller-config <file>",
      "FlytePropeller ConfigMap YAML (or its agent-service section) to patch",
    )
    .option(
      "--propeller-configmap <name>",
      "ConfigMap read with kubectl when --apply is given without --propeller-config",
      "flyte-propeller-config",
    )
    .option("--propeller-namespace <ns>", "namespace of that ConfigMap", "flyte")
    .option("--out <dir>", "write the files into DIR instead of printing them")
    .option("--apply", "apply with kubectl instead of printing (dry run is the default)")
    .option(
      "--check-endpoint <host:port>",
      "run the canary checks against this address instead of a kubectl port-forward",
    )
    .option("--kubectl <path>", "kubectl executable", "kubectl");
}

/** Registers `flyte-agent deploy` with its `promote` and `rollback` subcommands. */
export function register(program: Command): void {
  const deploy = common(
    program
      .command("deploy")
      .description(
        "Deploy an agent to Kubernetes: image, manifests and FlytePropeller routing (prints them unless --apply); --canary deploys a canary",
      )
      .addHelpText(
        "after",
        examplesHelp([
          ["flyte-agent deploy --image ghcr.io/acme/bq:1.0 --build --push", "build and push the image"],
          [
            "flyte-agent deploy --image ghcr.io/acme/bq:1.0 --task-types bq --propeller-config propeller.yaml --out out/",
            "review the objects and the routing",
          ],
          ["flyte-agent deploy --image ghcr.io/acme/bq:1.0 --task-types bq --apply", "apply with kubectl"],
          [
            "flyte-agent deploy --image ghcr.io/acme/bq:1.0 --task-types bq --flyte both --out out/",
            "route from FlytePropeller and Flyte 2",
          ],
          ["flyte-agent deploy --canary --image ghcr.io/acme/bq:1.1 --task-types bq --apply", "a canary"],
          ["flyte-agent deploy promote --apply", "the canary becomes stable"],
        ]),
      )
      .option("--image <name:tag>", "container image of the agent")
      .option("--replicas <n>", "replicas of the Deployment", "1")
      .option(
        "--task-types <a,b>",
        "task types this deployment serves (the server's allowlist) and that are routed to it; comma-separated or repeated",
        listFlag,
        [],
      )
      .option(
        "-m, --modules <paths>",
        "modules that register agents: comma-separated or repeated",
        listFlag,
        [],
      )
      .option("--port <n>", "gRPC port", "8000")
      .option("--prometheus-port <n>", "Prometheus metrics port", "9090")
      .option("--grace-period <duration>", "time the server drains in-flight calls on shutdown", "30s")
      .option("--cpu <q>", "CPU request", "500m")
      .option("--memory <q>", "memory request", "200Mi")
      .option("--cpu-limit <q>", "CPU limit", "500m")
      .option("--memory-limit <q>", "memory limit", "300Mi")
      .option("--secret <name>", "Secret mounted at /etc/secrets (default: <name>-secrets)")
      .option("--env <KEY=VALUE>", "environment variable (repeatable)", repeatFlag, [])
      .option("--headless", "headless Service, so FlytePropeller's round_robin reaches every replica")
      .option("--hpa-max <n>", "add a HorizontalPodAutoscaler with this many replicas at most")
      .option("--hpa-min <n>", "autoscaler minimum (default: --replicas)")
      .option("--hpa-cpu <percent>", "autoscaler CPU utilisation target", "80")
      .option("--pdb-min-available <n>", "add a PodDisruptionBudget keeping this many pods (or a percentage)")
      .option("--service-account <name>", "service account of the pods")
      .option(
        "--canary",
        "deploy as <name>-canary serving only --task-types, check it, then route those types to it",
      )
      .option(
        "--build",
        "write a Dockerfile into --dir and build the image with docker when an engine is available",
      )
      .option("--push", "push the image after building")
      .option("--dir <dir>", "agent project directory (the image's build context)", ".")
      .option("--docker <path>", "docker executable", "docker")
      .option(
        "--flyte <1|2|both>",
        "which Flyte routes --task-types to the agent: 1 patches FlytePropeller's ConfigMap, 2 writes a Flyte 2 connector ConfigMap, both does both",
        "1",
      )
      .option(
        "--flyte2-configmap <name>",
        "name of the Flyte 2 connector ConfigMap (default: <agent id>-connector-config)",
      )
      .option("--flyte2-namespace <ns>", "namespace of the Flyte 2 release", "flyte")
      .option("--flyte2-project <project>", "route only this project's tasks to the agent in Flyte 2")
      .option("--flyte2-domain <domain>", "route only this domain's tasks to the agent in Flyte 2"),
  )
    // Options after `promote` / `rollback` belong to them, not to `deploy`.
    .enablePositionalOptions()
    .action(async (flags: DeployFlags) => {
      const { runDeploy } = await import("../../deploy/deploy-command.js");
      await runDeploy(toDeployInput(flags), stdio);
    });

  common(
    deploy
      .command("promote")
      .description("Move the stable deployment to the canary's image and remove the canary"),
  )
    .option("--image <name:tag>", "image to promote (default: the canary's)")
    .action(async (flags: CommonFlags & { image?: string }) => {
      const { runCanaryEnd } = await import("../../deploy/deploy-command.js");
      await runCanaryEnd(
        "promote",
        { ...commonInput(flags), ...(flags.image ? { image: flags.image } : {}) },
        stdio,
      );
    });

  common(deploy.command("rollback").description("Remove the canary's routing, then the canary")).action(
    async (flags: CommonFlags) => {
      const { runCanaryEnd } = await import("../../deploy/deploy-command.js");
      await runCanaryEnd("rollback", commonInput(flags), stdio);
    },
  );
}

/**
 * A --propeller-config file must be readable YAML whether or not routing is asked for: a typo found
 * only on the day --task-types is added is a trap.
 */
function checkPropellerConfigFile(file: string): void {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read --propeller-config ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): give the FlytePropeller ConfigMap as a YAML file`,
    );
  }
  for (const doc of parseAllDocuments(text) as Document[]) {
    const bad = doc.errors[0];
    if (bad) {
      const line = bad.linePos?.[0].line;
      throw new UsageError(
        `--propeller-config ${file} is not valid YAML${line ? ` (line ${line})` : ""}: ${bad.message.split("\n")[0]}`,
      );
    }
    if (doc.contents !== null && !isMap(doc.contents))
      throw new UsageError(
        `--propeller-config ${file} is not a ConfigMap or a plugins: document: its top level is not a mapping`,
      );
  }
}

function commonInput(flags: CommonFlags): CommonInput {
  if (flags.propellerConfig !== undefined) checkPropellerConfigFile(flags.propellerConfig);
  if (flags.checkEndpoint !== undefined && !/^[^\s:]+:\d+$|^\[[^\]]+\]:\d+$/.test(flags.checkEndpoint)) {
    throw new UsageError(`--check-endpoint must be host:port, got ${JSON.stringify(flags.checkEndpoint)}`);
  }
  if (flags.apply && flags.out) throw new UsageError("--apply and --out cannot be used together");
  return {
    name: flags.name,
    namespace: flags.namespace,
    context: flags.context,
    agentId: flags.agentId,
    propellerConfigFile: flags.propellerConfig,
    propellerConfigMap: flags.propellerConfigmap,
    propellerNamespace: flags.propellerNamespace,
    out: flags.out,
    apply: flags.apply ?? false,
    checkEndpoint: flags.checkEndpoint,
    kubectl: flags.kubectl,
  };
}

function toDeployInput(flags: DeployFlags): DeployInput {
  if (!flags.image) throw new UsageError("--image is required (the agent's container image, name:tag)");
  if (flags.push && !flags.build) throw new UsageError("--push needs --build");
  const env: Record<string, string> = {};
  for (const kv of flags.env) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`--env takes KEY=VALUE, got ${JSON.stringify(kv)}`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const taskTypes = flags.taskTypes;
  if (flags.canary && taskTypes.length === 0)
    throw new UsageError(
      "--canary needs --task-types: name the task types the canary takes over (e.g. --task-types bigquery)",
    );
  // Not FlyteTarget's values: importing plan.js here would load the Kubernetes schemas for every command.
  const flyte = (["1", "2", "both"] as const satisfies readonly FlyteTarget[]).find((t) => t === flags.flyte);
  if (!flyte) throw new UsageError(`--flyte must be 1, 2 or both, got ${JSON.stringify(flags.flyte)}`);
  if (flags.canary && flyte !== "1")
    throw new UsageError(
      "--canary routes through FlytePropeller's ConfigMap only: drop --flyte, or deploy the Flyte 2 canary as its own --name with --flyte 2",
    );
  const gracePeriodSeconds = secondsFlag("--grace-period", flags.gracePeriod)!;
  if (!Number.isInteger(gracePeriodSeconds))
    throw new UsageError(`--grace-period must be whole seconds (e.g. 30s), got "${flags.gracePeriod}"`);
  const hpaMax = int("--hpa-max", flags.hpaMax);
  const hpaMin = int("--hpa-min", flags.hpaMin);
  const pdb = flags.pdbMinAvailable;
  return {
    ...commonInput(flags),
    manifest: {
      name: flags.name,
      image: flags.image,
      namespace: flags.namespace,
      replicas: int("--replicas", flags.replicas)!,
      taskTypes,
      modules: flags.modules,
      port: int("--port", flags.port)!,
      prometheusPort: int("--prometheus-port", flags.prometheusPort)!,
      gracePeriodSeconds,
      requests: {
        ...(flags.cpu ? { cpu: flags.cpu } : {}),
        ...(flags.memory ? { memory: flags.memory } : {}),
      },
      limits: {
        ...(flags.cpuLimit ? { cpu: flags.cpuLimit } : {}),
        ...(flags.memoryLimit ? { memory: flags.memoryLimit } : {}),
      },
      ...(flags.secret ? { secretName: flags.secret } : {}),
      env,
      headless: flags.headless ?? false,
      ...(hpaMax !== undefined
        ? {
            autoscaling: {
              maxReplicas: hpaMax,
              ...(hpaMin !== undefined ? { minReplicas: hpaMin } : {}),
              targetCpuPercent: int("--hpa-cpu", flags.hpaCpu)!,
            },
          }
        : {}),
      ...(pdb !== undefined
        ? { podDisruptionBudget: { minAvailable: /^\d+$/.test(pdb) ? Number(pdb) : pdb } }
        : {}),
      ...(flags.serviceAccount ? { serviceAccountName: flags.serviceAccount } : {}),
    },
    flyte,
    flyte2: {
      namespace: flags.flyte2Namespace,
      ...(flags.flyte2Configmap ? { configMapName: flags.flyte2Configmap } : {}),
      ...(flags.flyte2Project ? { project: flags.flyte2Project } : {}),
      ...(flags.flyte2Domain ? { domain: flags.flyte2Domain } : {}),
    },
    canary: flags.canary ?? false,
    build: flags.build ?? false,
    push: flags.push ?? false,
    dir: flags.dir,
    docker: flags.docker,
  };
}
