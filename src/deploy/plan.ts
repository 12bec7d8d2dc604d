import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkAgentEndpoint, type EndpointCheck, type EndpointCheckResult } from "./check-endpoint.js";
import { ensureDir } from "./ensure-dir.js";
import { DeployError } from "./errors.js";
import type { Kubectl } from "./kubectl.js";
import {
  createManifests,
  type Manifest,
  type ManifestOptions,
  resolveManifestOptions,
  serviceEndpoint,
  toYamlStream,
} from "./manifests.js";
import { type RoutingPatch, routeTaskTypes, unrouteAgent } from "./propeller-routing.js";

/** The container name in every Deployment this tool writes. */
export const CONTAINER_NAME = "agent";

/** One step of a plan; each says how to undo it. */
export type PlanStep =
  | { readonly kind: "apply"; readonly description: string; readonly undo: string; readonly yaml: string }
  | {
      readonly kind: "rollout";
      readonly description: string;
      readonly undo: string;
      readonly deployment: string;
    }
  | {
      readonly kind: "check";
      readonly description: string;
      readonly undo: string;
      readonly service: string;
      readonly port: number;
      readonly expected: readonly string[];
    }
  | {
      readonly kind: "set-image";
      readonly description: string;
      readonly undo: string;
      readonly deployment: string;
      /** The image, or the Deployment whose image is taken at run time. */
      readonly image: { readonly value: string } | { readonly from: string };
    }
  | {
      readonly kind: "delete";
      readonly description: string;
      readonly undo: string;
      readonly resources: readonly string[];
    };

/** Everything a deploy action would do, computed from its inputs alone. */
export interface DeployPlan {
  readonly action: "deploy" | "canary" | "promote" | "rollback";
  readonly namespace: string;
  /** Objects the plan applies (the Deployment, Service, … and the patched ConfigMap when there is one). */
  readonly manifests: readonly Record<string, unknown>[];
  /** The routing change, when a propeller config was given. */
  readonly routing: RoutingPatch | undefined;
  readonly steps: readonly PlanStep[];
  /** Things the user should know (routing notes, what was skipped). */
  readonly notes: readonly string[];
}

/** Options of {@link planDeploy} and {@link planCanary}. */
export interface DeployPlanOptions extends ManifestOptions {
  /** Deployment id in the propeller config. @default the name */
  readonly agentId?: string;
  /** The FlytePropeller config (ConfigMap YAML or its agent-service section); routing is skipped without it. */
  readonly propellerConfig?: string;
  /** Name of that input in messages. @default "propeller config" */
  readonly propellerSource?: string;
}

/** Options of {@link planPromote} and {@link planRollback}. */
export interface CanaryEndOptions {
  /** Name of the stable deployment (the canary is `<name>-canary`). @default "flyte-agent" */
  readonly name?: string;
  /** @default "flyte" */
  readonly namespace?: string;
  /** Deployment id of the stable agent in the propeller config. @default the name */
  readonly agentId?: string;
  /** The image to promote. @default the canary Deployment's image, read at run time */
  readonly image?: string;
  readonly propellerConfig?: string;
  readonly propellerSource?: string;
}

/** Names of a canary's objects, derived from the stable ones. */
export function canaryNames(name: string, agentId = name): { name: string; agentId: string } {
  return { name: `${name}-canary`, agentId: `${agentId}-canary` };
}

const kubectlNs = (ns: string) => `kubectl --namespace ${ns}`;

function routingApply(
  routing: RoutingPatch,
  namespace: string,
  undo: string,
): { step: PlanStep; manifest: Record<string, unknown> } | undefined {
  if (!routing.configMap) return undefined;
  if (routing.diff === "") return undefined;
  const yaml = routing.after;
  return {
    step: {
      kind: "apply",
      description: `update ConfigMap ${routing.configMap.namespace ?? namespace}/${routing.configMap.name} (FlytePropeller routing)`,
      undo,
      yaml,
    },
    manifest: { __raw: yaml },
  };
}

function rawOrObjects(manifests: readonly Record<string, unknown>[]): Manifest[] {
  return manifests.filter((m) => !("__raw" in m)) as Manifest[];
}

const resourcesOf = (manifests: readonly Manifest[]) =>
  manifests.map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`);

/**
 * Plans a stable deployment: apply the objects, wait for the rollout, then (given a propeller config
 * and task types) route those task types to it.
 */
export function planDeploy(options: DeployPlanOptions): DeployPlan {
  const o = resolveManifestOptions(options);
  const manifests = createManifests(o);
  const agentId = options.agentId ?? o.name;
  const steps: PlanStep[] = [
    {
      kind: "apply",
      description: `apply ${resourcesOf(manifests).join(", ")} in namespace ${o.namespace}`,
      undo: `${kubectlNs(o.namespace)} delete ${resourcesOf(manifests).join(" ")}`,
      yaml: toYamlStream(manifests),
    },
    {
      kind: "rollout",
      description: `wait for deployment/${o.name} to roll out`,
      undo: `${kubectlNs(o.namespace)} rollout undo deployment/${o.name}`,
      deployment: o.name,
    },
  ];
  const notes: string[] = [];
  let routing: RoutingPatch | undefined;
  const all: Record<string, unknown>[] = [...manifests];
  if (options.propellerConfig !== undefined && o.taskTypes.length > 0) {
    routing = routeTaskTypes(options.propellerConfig, {
      agentId,
      endpoint: serviceEndpoint(o),
      taskTypes: o.taskTypes,
      ...(o.headless ? { defaultServiceConfig: ROUND_ROBIN } : {}),
      ...(options.propellerSource ? { source: options.propellerSource } : {}),
    });
    notes.push(...routing.notes);
    const apply = routingApply(
      routing,
      o.namespace,
      "re-apply the saved original ConfigMap (its path is printed when applied)",
    );
    if (apply) {
      steps.push(apply.step);
      all.push(apply.manifest);
    }
  } else if (o.taskTypes.length === 0) {
    notes.push("no --task-types given: the server serves every registered agent and no routing is changed");
  } else {
    notes.push(
      "no propeller config given: routing is not changed (pass --propeller-config, or --apply to read it from the cluster)",
    );
  }
  return { action: "deploy", namespace: o.namespace, manifests: all, routing, steps, notes };
}

const ROUND_ROBIN = '{"loadBalancingConfig": [{"round_robin":{}}]}';

/**
 * Plans a canary: a separate Deployment/Service `<name>-canary` serving only `taskTypes` (the
 * server's allowlist), checked (health SERVING, ListAgents lists exactly those types), and only then
 * routed those task types. `planRollback` undoes it; `planPromote` finishes it.
 */
export function planCanary(options: DeployPlanOptions): DeployPlan {
  const stable = resolveManifestOptions(options);
  if (stable.taskTypes.length === 0) {
    throw new DeployError("a canary needs --task-types: it takes only the task types it is given");
  }
  const names = canaryNames(stable.name, options.agentId ?? stable.name);
  const o = resolveManifestOptions({
    ...stable,
    name: names.name,
    canary: true,
    replicas: 1,
    autoscaling: undefined,
    podDisruptionBudget: undefined,
    // The canary shares the stable deployment's secret.
    secretName: stable.secretName,
  });
  const manifests = createManifests(o);
  const rollback = `flyte-agent deploy rollback --name ${stable.name} --namespace ${stable.namespace}`;
  const steps: PlanStep[] = [
    {
      kind: "apply",
      description: `apply the canary ${resourcesOf(manifests).join(", ")} serving only ${o.taskTypes.join(", ")}`,
      undo: `${kubectlNs(o.namespace)} delete ${resourcesOf(manifests).join(" ")}`,
      yaml: toYamlStream(manifests),
    },
    {
      kind: "rollout",
      description: `wait for deployment/${o.name} to roll out`,
      undo: `${kubectlNs(o.namespace)} delete ${resourcesOf(manifests).join(" ")}`,
      deployment: o.name,
    },
    {
      kind: "check",
      description: `check service/${o.name}: health SERVING and ListAgents lists exactly ${o.taskTypes.join(", ")}`,
      undo: "nothing to undo (read only)",
      service: o.name,
      port: o.port,
      expected: o.taskTypes,
    },
  ];
  const notes: string[] = [];
  const all: Record<string, unknown>[] = [...manifests];
  let routing: RoutingPatch | undefined;
  if (options.propellerConfig !== undefined) {
    routing = routeTaskTypes(options.propellerConfig, {
      agentId: names.agentId,
      endpoint: serviceEndpoint(o),
      taskTypes: o.taskTypes,
      canary: true,
      ...(o.headless ? { defaultServiceConfig: ROUND_ROBIN } : {}),
      ...(options.propellerSource ? { source: options.propellerSource } : {}),
    });
    notes.push(...routing.notes);
    const apply = routingApply(routing, o.namespace, rollback);
    if (apply) {
      steps.push(apply.step);
      all.push(apply.manifest);
    }
  } else {
    notes.push("no propeller config given: the canary is deployed and checked but receives no traffic");
  }
  return { action: "canary", namespace: o.namespace, manifests: all, routing, steps, notes };
}

function endOptions(options: CanaryEndOptions) {
  const name = options.name ?? "flyte-agent";
  const namespace = options.namespace ?? "flyte";
  // Reuse the manifest checks on names.
  resolveManifestOptions({ name, namespace, image: options.image ?? "unused:0" });
  const canary = canaryNames(name, options.agentId ?? name);
  return { stable: name, namespace, canary: canary.name, canaryId: canary.agentId };
}

function unrouting(options: CanaryEndOptions, agentId: string, namespace: string, undo: string) {
  if (options.propellerConfig === undefined)
    return { routing: undefined, step: undefined, manifest: undefined };
  const routing = unrouteAgent(options.propellerConfig, {
    agentId,
    ...(options.propellerSource ? { source: options.propellerSource } : {}),
  });
  const apply = routingApply(routing, namespace, undo);
  return { routing, step: apply?.step, manifest: apply?.manifest };
}

/**
 * Plans a promotion: the stable Deployment takes the canary's image, then the canary's routing is
 * removed (its task types go back to their previous targets, now running the new version) and the
 * canary is deleted.
 */
export function planPromote(options: CanaryEndOptions): DeployPlan {
  const n = endOptions(options);
  return endCanary("promote", options, n, [
    {
      kind: "set-image",
      description: `set deployment/${n.stable} to ${options.image ?? `the image of deployment/${n.canary}`}`,
      undo: `${kubectlNs(n.namespace)} rollout undo deployment/${n.stable}`,
      deployment: n.stable,
      image: options.image ? { value: options.image } : { from: n.canary },
    },
    {
      kind: "rollout",
      description: `wait for deployment/${n.stable} to roll out`,
      undo: `${kubectlNs(n.namespace)} rollout undo deployment/${n.stable}`,
      deployment: n.stable,
    },
  ]);
}

/** Plans a rollback: remove the canary's routing first (traffic returns at once), then the canary. */
export function planRollback(options: CanaryEndOptions): DeployPlan {
  return endCanary("rollback", options, endOptions(options), []);
}

/** The common end of promote and rollback: `first` steps, then unroute the canary, then delete it. */
function endCanary(
  action: "promote" | "rollback",
  options: CanaryEndOptions,
  n: ReturnType<typeof endOptions>,
  first: PlanStep[],
): DeployPlan {
  const redo = "re-run `flyte-agent deploy --canary` with the same flags";
  const steps = [...first];
  const u = unrouting(options, n.canaryId, n.namespace, redo);
  if (u.step) steps.push(u.step);
  steps.push({
    kind: "delete",
    description: `delete the canary deployment/${n.canary}, service/${n.canary}`,
    undo: redo,
    resources: [`deployment/${n.canary}`, `service/${n.canary}`],
  });
  return {
    action,
    namespace: n.namespace,
    manifests: u.manifest ? [u.manifest] : [],
    routing: u.routing,
    steps,
    notes: u.routing ? [...u.routing.notes] : ["no propeller config given: routing is not changed"],
  };
}

/** Renders what a plan applies as one YAML stream (the patched ConfigMap keeps its own text). */
export function planToYaml(plan: DeployPlan): string {
  const parts: string[] = [];
  const objects = rawOrObjects(plan.manifests);
  if (objects.length > 0) parts.push(toYamlStream(objects));
  for (const m of plan.manifests) if ("__raw" in m) parts.push(String(m.__raw));
  return parts.join("---\n");
}

/** Writes a plan's files into `dir`: one YAML file per object, the patched config and its diff. */
export async function writePlan(plan: DeployPlan, dir: string): Promise<string[]> {
  await ensureDir(dir, "--out");
  const written: string[] = [];
  const put = async (file: string, text: string) => {
    const path = join(dir, file);
    await writeFile(path, text);
    written.push(path);
  };
  for (const m of rawOrObjects(plan.manifests)) {
    await put(`${m.metadata.name}-${m.kind.toLowerCase()}.yaml`, toYamlStream([m]));
  }
  if (plan.routing) {
    await put(
      plan.routing.configMap ? "propeller-configmap.yaml" : "propeller-config.yaml",
      plan.routing.after,
    );
    if (plan.routing.diff) await put("propeller-config.diff", plan.routing.diff);
  }
  return written;
}

/** Further checks of a canary serving at `address`, beyond health and its ListAgents answer. */
export type CanaryChecks = (address: string) => Promise<readonly EndpointCheck[]>;

/** Options of {@link executePlan}. */
export interface ExecuteOptions {
  readonly kubectl: Kubectl;
  /** Where the canary check dials instead of a `kubectl port-forward` (e.g. a local server). */
  readonly checkEndpoint?: string;
  /**
   * Checks run on a canary after its own ones pass (the CLI gives the server-wide conformance checks);
   * a failed one stops the plan before any routing changes.
   */
  readonly canaryChecks?: CanaryChecks;
  /** Where the original ConfigMap is saved before it is replaced. */
  readonly backupDir: string;
  /** `kubectl rollout status --timeout`. @default "180s" */
  readonly rolloutTimeout?: string;
  /** Receives one line per thing done. */
  readonly log: (line: string) => void;
}

/**
 * Runs a plan through kubectl, step by step, printing what each step did and how to undo it. Stops
 * at the first failure (a failed canary check stops before any routing changes).
 * @throws DeployError naming the failed step and its undo command.
 */
export async function executePlan(plan: DeployPlan, options: ExecuteOptions): Promise<void> {
  const { kubectl, log } = options;
  for (const [i, step] of plan.steps.entries()) {
    const label = `[${i + 1}/${plan.steps.length}]`;
    log(`${label} ${step.description}`);
    switch (step.kind) {
      case "apply": {
        if (plan.routing && step.yaml === plan.routing.after) {
          await mkdir(options.backupDir, { recursive: true });
          const backup = join(options.backupDir, `propeller-configmap.before-${plan.action}.yaml`);
          await writeFile(backup, plan.routing.before);
          log(`      saved the original ConfigMap to ${backup}`);
          const out = await kubectl.apply(step.yaml);
          log(indent(out));
          log(`      undo: ${step.undo.startsWith("re-apply") ? `kubectl apply -f ${backup}` : step.undo}`);
          break;
        }
        log(indent(await kubectl.apply(step.yaml)));
        log(`      undo: ${step.undo}`);
        break;
      }
      case "rollout":
        log(
          indent(
            await kubectl.run([
              "rollout",
              "status",
              `deployment/${step.deployment}`,
              `--timeout=${options.rolloutTimeout ?? "180s"}`,
            ]),
          ),
        );
        log(`      undo: ${step.undo}`);
        break;
      case "check": {
        const result = await runCheck(step, options);
        for (const c of result.checks) log(`      ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
        if (!result.ok) {
          throw new DeployError(
            `the canary failed its checks at ${result.address}, so no traffic was routed to it; remove it with \`flyte-agent deploy rollback --name ${step.service.replace(/-canary$/, "")} --namespace ${plan.namespace}\``,
          );
        }
        break;
      }
      case "set-image": {
        const image =
          "value" in step.image ? step.image.value : await kubectl.getImage(step.image.from, CONTAINER_NAME);
        const previous = await kubectl.getImage(step.deployment, CONTAINER_NAME);
        log(
          indent(
            await kubectl.run([
              "set",
              "image",
              `deployment/${step.deployment}`,
              `${CONTAINER_NAME}=${image}`,
            ]),
          ),
        );
        log(
          `      undo: ${kubectl.describe(["set", "image", `deployment/${step.deployment}`, `${CONTAINER_NAME}=${previous}`])}`,
        );
        break;
      }
      case "delete":
        log(indent(await kubectl.run(["delete", "--ignore-not-found", ...step.resources])));
        log(`      undo: ${step.undo}`);
        break;
    }
  }
}

async function runCheck(
  step: Extract<PlanStep, { kind: "check" }>,
  options: ExecuteOptions,
): Promise<EndpointCheckResult> {
  if (options.checkEndpoint) return checkCanary(options.checkEndpoint, step, options.canaryChecks);
  const forward = await options.kubectl.portForward(step.service, step.port);
  try {
    return await checkCanary(forward.address, step, options.canaryChecks);
  } finally {
    await forward.close();
  }
}

/**
 * The canary's own checks (it serves exactly the allowlisted types) followed by `more` (the CLI gives
 * the server-wide conformance checks: GetAgent agrees with ListAgents, NOT_FOUND for unknown
 * categories...), run only once the canary's own checks found it listing its types.
 */
async function checkCanary(
  address: string,
  step: Extract<PlanStep, { kind: "check" }>,
  more: CanaryChecks | undefined,
): Promise<EndpointCheckResult> {
  const own = await checkAgentEndpoint(address, { expected: step.expected });
  if (!more || !own.checks.some((c) => c.name === "list-agents" && c.ok)) return own;
  const checks = [...own.checks, ...(await more(address))];
  return { ...own, ok: checks.every((c) => c.ok), checks };
}

function indent(text: string): string {
  return text
    .trim()
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => `      ${l}`)
    .join("\n");
}
