import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { stringify } from "yaml";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { SERVE_BINARY, serveArgs } from "./dockerfile.js";

/** CPU and memory quantities, as Kubernetes writes them (`"500m"`, `"300Mi"`). */
export interface ResourceQuantities {
  readonly cpu?: string;
  readonly memory?: string;
}

/** What a user passes to describe the agent's Kubernetes objects. */
export interface ManifestOptions {
  /** Name of the Deployment and Service (a DNS label). @default "flyte-agent" */
  readonly name?: string;
  /** Container image, `name:tag`. */
  readonly image: string;
  /** @default "flyte" */
  readonly namespace?: string;
  /** @default 1 */
  readonly replicas?: number;
  /** The server's allowlist (`serve agent --task-types`); empty serves every registered agent. @default [] */
  readonly taskTypes?: readonly string[];
  /** Modules that register agents (`serve agent --modules`). @default [] */
  readonly modules?: readonly string[];
  /** @default 8000 */
  readonly port?: number;
  /** @default 9090 */
  readonly prometheusPort?: number;
  /** Seconds the server drains in-flight calls on SIGTERM. @default 30 */
  readonly gracePeriodSeconds?: number;
  /** @default { cpu: "500m", memory: "200Mi" } (flytekit's chart) */
  readonly requests?: ResourceQuantities;
  /** @default { cpu: "500m", memory: "300Mi" } (flytekit's chart) */
  readonly limits?: ResourceQuantities;
  /** Secret mounted at `/etc/secrets` (optional, so pods start before it exists). @default `${name}-secrets` */
  readonly secretName?: string;
  /** Extra environment variables. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** A headless Service (`clusterIP: None`) so FlytePropeller's `round_robin` reaches every replica. @default false */
  readonly headless?: boolean;
  /** Adds a HorizontalPodAutoscaler on CPU utilisation. @default none */
  readonly autoscaling?: {
    readonly minReplicas?: number;
    readonly maxReplicas: number;
    readonly targetCpuPercent?: number;
  };
  /** Adds a PodDisruptionBudget. @default none */
  readonly podDisruptionBudget?: {
    readonly minAvailable?: number | string;
    readonly maxUnavailable?: number | string;
  };
  /** Service account of the pods. @default the namespace default */
  readonly serviceAccountName?: string;
  /** Marks the objects as a canary of the stable deployment `name` (labels only). @default false */
  readonly canary?: boolean;
}

/** {@link ManifestOptions} with every default applied. */
export interface ResolvedManifestOptions {
  readonly name: string;
  readonly image: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly taskTypes: readonly string[];
  readonly modules: readonly string[];
  readonly port: number;
  readonly prometheusPort: number;
  readonly gracePeriodSeconds: number;
  readonly requests: ResourceQuantities;
  readonly limits: ResourceQuantities;
  readonly secretName: string;
  readonly env: Readonly<Record<string, string>>;
  readonly headless: boolean;
  readonly autoscaling:
    | { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuPercent: number }
    | undefined;
  readonly podDisruptionBudget: ManifestOptions["podDisruptionBudget"];
  readonly serviceAccountName: string | undefined;
  readonly canary: boolean;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain, as the API server checks Secret and ServiceAccount names. */
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A task type (or category `name_vN`) that FlytePropeller's config keys and the allowlist can carry. */
const taskTypePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const quantitySuffix: Readonly<Record<string, number>> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A Kubernetes resource quantity (`500m`, `1.5`, `200Mi`, `1G`, `1e3`) in base units, or undefined
 * when the API server would refuse the text.
 */
export function parseQuantity(text: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  if (m[2]) return value * 10 ** Number(m[2].slice(1));
  return value * quantitySuffix[m[3] ?? ""]!;
}

function invalid(message: string): FlyteAgentError {
  return new FlyteAgentError(ErrorCode.INVALID_CONFIG, message);
}

/**
 * Applies defaults and checks the options a schema cannot (names, ranges).
 * @throws FlyteAgentError (`INVALID_CONFIG`) with one sentence naming the bad option.
 */
export function resolveManifestOptions(options: ManifestOptions): ResolvedManifestOptions {
  const name = options.name ?? "flyte-agent";
  if (name.length > 63 - "-canary".length || !dnsLabel.test(name)) {
    throw invalid(
      `name ${JSON.stringify(name)} must be a DNS label of at most 56 characters (lower-case letters, digits, '-')`,
    );
  }
  if (!options.image || /\s/.test(options.image)) throw invalid("image must be set, as name:tag");
  const namespace = options.namespace ?? "flyte";
  if (!dnsLabel.test(namespace))
    throw invalid(`namespace ${JSON.stringify(namespace)} is not a valid DNS label`);
  const positive = (label: string, n: number, min = 1) => {
    if (!Number.isInteger(n) || n < min) throw invalid(`${label} must be an integer ≥ ${min}, got ${n}`);
    return n;
  };
  const tcpPort = (label: string, n: number) => {
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw invalid(`${label} must be a port number from 1 to 65535, got ${n}`);
    return n;
  };
  const port = tcpPort("port", options.port ?? 8000);
  const prometheusPort = tcpPort("prometheus port", options.prometheusPort ?? 9090);
  if (port === prometheusPort) throw invalid("the gRPC port and the Prometheus port must differ");
  const auto = options.autoscaling;
  const replicas = positive("replicas", options.replicas ?? auto?.minReplicas ?? 1, 0);
  let autoscaling: ResolvedManifestOptions["autoscaling"];
  if (auto) {
    const minReplicas = positive("autoscaling min replicas", auto.minReplicas ?? replicas);
    const maxReplicas = positive("autoscaling max replicas", auto.maxReplicas);
    if (maxReplicas < minReplicas)
      throw invalid(`autoscaling max replicas (${maxReplicas}) is below min replicas (${minReplicas})`);
    autoscaling = {
      minReplicas,
      maxReplicas,
      targetCpuPercent: positive("autoscaling CPU target", auto.targetCpuPercent ?? 80),
    };
  }
  const pdb = options.podDisruptionBudget;
  if (pdb && (pdb.minAvailable === undefined) === (pdb.maxUnavailable === undefined)) {
    throw invalid("a PodDisruptionBudget takes exactly one of minAvailable or maxUnavailable");
  }
  if (pdb) checkDisruptionBudget(pdb, autoscaling?.minReplicas ?? replicas);
  const requests = options.requests ?? { cpu: "500m", memory: "200Mi" };
  const limits = options.limits ?? { cpu: "500m", memory: "300Mi" };
  checkResources(requests, limits);
  for (const t of options.taskTypes ?? []) {
    if (!taskTypePattern.test(t))
      throw invalid(
        `task type ${JSON.stringify(t)} may hold only letters, digits, "_", "-" and "." (no spaces), as FlytePropeller's config keys do`,
      );
  }
  const secretName = options.secretName ?? `${name}-secrets`;
  if (!dnsSubdomain.test(secretName))
    throw invalid(
      `secret name ${JSON.stringify(secretName)} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-', '.')`,
    );
  if (options.serviceAccountName !== undefined && !dnsSubdomain.test(options.serviceAccountName))
    throw invalid(
      `service account ${JSON.stringify(options.serviceAccountName)} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-', '.')`,
    );
  for (const key of Object.keys(options.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key))
      throw invalid(`environment variable name ${JSON.stringify(key)} is not valid`);
  }
  return {
    name,
    image: options.image,
    namespace,
    replicas,
    taskTypes: options.taskTypes ?? [],
    modules: options.modules ?? [],
    port,
    prometheusPort,
    gracePeriodSeconds: positive("grace period", options.gracePeriodSeconds ?? 30, 0),
    requests,
    limits,
    secretName,
    env: options.env ?? {},
    headless: options.headless ?? false,
    autoscaling,
    podDisruptionBudget: pdb,
    serviceAccountName: options.serviceAccountName,
    canary: options.canary ?? false,
  };
}

/**
 * What the API server and the eviction API would make of a PodDisruptionBudget: a percentage above
 * 100% is refused, and a minAvailable that leaves no pod to evict blocks every node drain.
 */
function checkDisruptionBudget(
  pdb: NonNullable<ManifestOptions["podDisruptionBudget"]>,
  replicas: number,
): void {
  for (const [field, value] of Object.entries(pdb) as [string, number | string | undefined][]) {
    if (value === undefined) continue;
    if (typeof value === "string") {
      const m = /^(\d+)%$/.exec(value);
      if (!m)
        throw invalid(
          `PodDisruptionBudget ${field} must be a number of pods or a percentage, got ${JSON.stringify(value)}`,
        );
      if (Number(m[1]) > 100) throw invalid(`PodDisruptionBudget ${field} ${value} is above 100%`);
      if (field === "minAvailable" && Number(m[1]) === 100)
        throw invalid(
          "PodDisruptionBudget minAvailable 100% lets no pod be evicted, so every node drain blocks: use less",
        );
    } else {
      if (!Number.isInteger(value) || value < 0)
        throw invalid(`PodDisruptionBudget ${field} must be a non-negative integer, got ${value}`);
      if (field === "minAvailable" && value >= replicas)
        throw invalid(
          `PodDisruptionBudget minAvailable ${value} is not below the ${replicas} replica(s), so no pod may be evicted and every node drain blocks: use at most ${Math.max(replicas - 1, 0)}, or more replicas`,
        );
    }
  }
}

/** Requests and limits as the API server checks them: valid quantities, each request within its limit. */
function checkResources(requests: ResourceQuantities, limits: ResourceQuantities): void {
  for (const [kind, set] of [
    ["request", requests],
    ["limit", limits],
  ] as const) {
    for (const [resource, text] of Object.entries(set) as [string, string | undefined][]) {
      if (text !== undefined && parseQuantity(text) === undefined)
        throw invalid(
          `${resource} ${kind} ${JSON.stringify(text)} is not a Kubernetes quantity (e.g. 500m, 1, 256Mi, 1Gi)`,
        );
    }
  }
  for (const resource of ["cpu", "memory"] as const) {
    const request = requests[resource];
    const limit = limits[resource];
    if (request === undefined || limit === undefined) continue;
    if (parseQuantity(request)! > parseQuantity(limit)!)
      throw invalid(
        `the ${resource} request ${request} is above its limit ${limit}: raise the limit or lower the request`,
      );
  }
}

/** A Kubernetes object as written to YAML. */
export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
};

/** The in-cluster endpoint FlytePropeller dials for this Service. */
export function serviceEndpoint(o: Pick<ResolvedManifestOptions, "name" | "namespace" | "port">): string {
  return `dns:///${o.name}.${o.namespace}.svc.cluster.local:${o.port}`;
}

/** Labels every object carries; `instance` alone selects the pods, so a canary never joins the stable Service. */
function labelsFor(o: ResolvedManifestOptions): Record<string, string> {
  const tag = /:([\w][\w.-]{0,127})$/.exec(o.image.replace(/@.*$/, ""))?.[1];
  return {
    "app.kubernetes.io/name": "flyte-agent",
    "app.kubernetes.io/instance": o.name,
    "app.kubernetes.io/component": o.canary ? "canary" : "stable",
    "app.kubernetes.io/managed-by": "flyte-agent",
    ...(tag ? { "app.kubernetes.io/version": tag } : {}),
  };
}

const clean = (value: object): Manifest => JSON.parse(JSON.stringify(value)) as Manifest;

/**
 * Builds the agent's objects: a Deployment (gRPC probes on the health service, the Secret at
 * `/etc/secrets`, non-root, Prometheus annotations, termination grace covering the server's drain),
 * a Service, and optionally a HorizontalPodAutoscaler and a PodDisruptionBudget. Every object is
 * validated against the Kubernetes schema before it is returned.
 */
export function createManifests(options: ManifestOptions): Manifest[] {
  // Resolving is idempotent, so resolved options may be passed back in.
  const o = resolveManifestOptions(options);
  const labels = labelsFor(o);
  const selector = { "app.kubernetes.io/name": "flyte-agent", "app.kubernetes.io/instance": o.name };
  const metadata = { name: o.name, namespace: o.namespace, labels };
  const args = serveArgs(o);
  const resources = {
    requests: { ...o.requests } as Record<string, string>,
    limits: { ...o.limits } as Record<string, string>,
  };

  const deployment = new Deployment({
    metadata,
    spec: {
      // An autoscaler owns the replica count; writing it here would fight the autoscaler on every apply.
      ...(o.autoscaling ? {} : { replicas: o.replicas }),
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          annotations: {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(o.prometheusPort),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          ...(o.serviceAccountName ? { serviceAccountName: o.serviceAccountName } : {}),
          // The server drains for gracePeriodSeconds after SIGTERM; the kubelet must not kill it sooner.
          terminationGracePeriodSeconds: o.gracePeriodSeconds + 5,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "agent",
              image: o.image,
              command: [SERVE_BINARY],
              args,
              ports: [
                { name: "grpc", containerPort: o.port, protocol: "TCP" },
                { name: "metrics", containerPort: o.prometheusPort, protocol: "TCP" },
              ],
              env: [
                { name: "FLYTE_SECRETS_DEFAULT_DIR", value: "/etc/secrets" },
                ...Object.entries(o.env)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([name, value]) => ({ name, value })),
              ],
              resources,
              readinessProbe: {
                grpc: { port: o.port },
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 2,
              },
              livenessProbe: {
                grpc: { port: o.port },
                initialDelaySeconds: 10,
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "secrets", mountPath: "/etc/secrets", readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "secrets", secret: { secretName: o.secretName, optional: true } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  });

  const service = new Service({
    metadata,
    spec: {
      type: "ClusterIP",
      ...(o.headless ? { clusterIP: "None" } : {}),
      selector,
      ports: [
        { name: "grpc", port: o.port, targetPort: "grpc", protocol: "TCP", appProtocol: "grpc" },
        {
          name: "metrics",
          port: o.prometheusPort,
          targetPort: "metrics",
          protocol: "TCP",
          appProtocol: "http",
        },
      ],
    },
  });

  const out: Manifest[] = [clean(deployment), clean(service)];
  if (o.autoscaling) {
    out.push(
      clean(
        new HorizontalPodAutoscaler({
          metadata,
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: o.name },
            minReplicas: o.autoscaling.minReplicas,
            maxReplicas: o.autoscaling.maxReplicas,
            metrics: [
              {
                type: "Resource",
                resource: {
                  name: "cpu",
                  target: { type: "Utilization", averageUtilization: o.autoscaling.targetCpuPercent },
                },
              },
            ],
          },
        }),
      ),
    );
  }
  if (o.podDisruptionBudget) {
    const pdb = o.podDisruptionBudget;
    out.push(
      clean(
        new PodDisruptionBudget({
          metadata,
          spec: {
            selector: { matchLabels: selector },
            ...(pdb.minAvailable !== undefined ? { minAvailable: pdb.minAvailable } : {}),
            ...(pdb.maxUnavailable !== undefined ? { maxUnavailable: pdb.maxUnavailable } : {}),
          },
        }),
      ),
    );
  }
  validateManifests(out);
  return out;
}

type ModelClass = new (data: never) => { validate(): void };

const models: Record<string, ModelClass> = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

/**
 * Validates objects against the Kubernetes OpenAPI schemas shipped by `kubernetes-models` (offline).
 * @throws FlyteAgentError (`INVALID_CONFIG`) listing, per object, the paths that fail, e.g.
 *   `Deployment/x: /spec/replicas must be integer`.
 */
export function validateManifests(manifests: readonly Record<string, unknown>[]): void {
  const problems: string[] = [];
  for (const m of manifests) {
    const kind = String(m.kind);
    const rawName = (m.metadata as { name?: unknown } | undefined)?.name;
    const name = typeof rawName === "string" ? rawName : "(unnamed)";
    const Model = models[`${String(m.apiVersion)}/${kind}`];
    if (!Model) {
      problems.push(`${kind}/${name}: no schema for apiVersion ${String(m.apiVersion)}`);
      continue;
    }
    try {
      new Model(m as never).validate();
    } catch (err) {
      const errors = (err as { errors?: { instancePath?: string; message?: string }[] }).errors;
      const detail = errors?.length
        ? errors.map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`).join("; ")
        : (err as Error).message;
      problems.push(`${kind}/${name}: ${detail}`);
    }
  }
  if (problems.length > 0) {
    throw invalid(`manifests fail the Kubernetes schema: ${problems.join(" | ")}`);
  }
}

/** Renders objects as one multi-document YAML stream (what `kubectl apply -f -` reads). */
export function toYamlStream(manifests: readonly object[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0 })).join("---\n");
}
