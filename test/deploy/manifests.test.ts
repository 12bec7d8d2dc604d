import { execa } from "execa";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  createManifests,
  parseQuantity,
  toYamlStream,
  validateManifests,
} from "../../src/deploy/manifests.js";
import { inspectProject, PRUNE_DEPENDENCIES, renderDockerfile } from "../../src/deploy/dockerfile.js";

type Obj = Record<string, any>;
const byKind = (list: readonly Obj[], kind: string) => list.find((m) => m.kind === kind)!;

describe("createManifests", () => {
  const manifests = createManifests({
    name: "bq-agent",
    image: "ghcr.io/acme/bq-agent:1.2.0",
    namespace: "flyte",
    replicas: 3,
    taskTypes: ["bigquery_query_job_task"],
    env: { LOG_LEVEL: "debug" },
    gracePeriodSeconds: 20,
  }) as Obj[];

  it("builds a Deployment with gRPC probes, the secret mount, metrics and a non-root user", () => {
    const d = byKind(manifests, "Deployment");
    expect(d.apiVersion).toBe("apps/v1");
    expect(d.spec.replicas).toBe(3);
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe("ghcr.io/acme/bq-agent:1.2.0");
    expect(c.command).toEqual(["/app/node_modules/.bin/flyte-agent-serve"]);
    expect(c.args).toEqual([
      "agent",
      "--port",
      "8000",
      "--prometheus-port",
      "9090",
      "--grace-period",
      "20",
      "--task-types",
      "bigquery_query_job_task",
    ]);
    expect(c.readinessProbe.grpc).toEqual({ port: 8000 });
    expect(c.livenessProbe.grpc).toEqual({ port: 8000 });
    expect(c.volumeMounts).toContainEqual({ name: "secrets", mountPath: "/etc/secrets", readOnly: true });
    expect(pod.volumes).toContainEqual({
      name: "secrets",
      secret: { secretName: "bq-agent-secrets", optional: true },
    });
    expect(c.env).toContainEqual({ name: "LOG_LEVEL", value: "debug" });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(d.spec.template.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9090",
    });
    expect(c.ports).toContainEqual({ name: "metrics", containerPort: 9090, protocol: "TCP" });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(20);
  });

  it("builds a ClusterIP Service with the gRPC app protocol that selects only this deployment's pods", () => {
    const s = byKind(manifests, "Service");
    expect(s.spec.type).toBe("ClusterIP");
    expect(s.spec.clusterIP).toBeUndefined();
    expect(s.spec.ports[0]).toMatchObject({ name: "grpc", port: 8000, appProtocol: "grpc" });
    expect(s.spec.selector).toEqual(byKind(manifests, "Deployment").spec.selector.matchLabels);
    expect(s.spec.selector["app.kubernetes.io/instance"]).toBe("bq-agent");
  });

  it("adds no autoscaler or disruption budget unless asked", () => {
    expect(manifests.map((m) => m.kind)).toEqual(["Deployment", "Service"]);
  });

  it("makes the Service headless and adds an HPA and a PDB when asked", () => {
    const list = createManifests({
      image: "a:1",
      headless: true,
      autoscaling: { minReplicas: 2, maxReplicas: 6, targetCpuPercent: 70 },
      podDisruptionBudget: { minAvailable: 1 },
    }) as Obj[];
    expect(list.map((m) => m.kind)).toEqual([
      "Deployment",
      "Service",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
    ]);
    expect(byKind(list, "Service").spec.clusterIP).toBe("None");
    // The autoscaler owns the replica count.
    expect(byKind(list, "Deployment").spec.replicas).toBeUndefined();
    expect(byKind(list, "HorizontalPodAutoscaler").spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(byKind(list, "PodDisruptionBudget").spec.minAvailable).toBe(1);
  });

  it("keeps a canary's pods out of the stable Service", () => {
    const stable = byKind(createManifests({ name: "agent", image: "a:1" }), "Service");
    const canary = byKind(
      createManifests({ name: "agent-canary", image: "a:2", canary: true }),
      "Deployment",
    );
    const podLabels = canary.spec.template.metadata.labels as Record<string, string>;
    const matches = Object.entries(stable.spec.selector as Record<string, string>).every(
      ([k, v]) => podLabels[k] === v,
    );
    expect(matches).toBe(false);
    expect(podLabels["app.kubernetes.io/component"]).toBe("canary");
  });

  it("rejects bad options with one sentence naming the option", () => {
    expect(() => createManifests({ name: "Bad_Name", image: "a:1" })).toThrow(
      /name "Bad_Name" must be a DNS label/,
    );
    expect(() => createManifests({ image: "" })).toThrow(/image must be set/);
    expect(() => createManifests({ image: "a:1", autoscaling: { minReplicas: 4, maxReplicas: 2 } })).toThrow(
      /max replicas \(2\) is below/,
    );
    expect(() => createManifests({ image: "a:1", podDisruptionBudget: {} })).toThrow(/exactly one of/);
  });

  it("renders a YAML stream that parses back to the same objects", () => {
    const docs = parseAllDocuments(toYamlStream(manifests)).map((d) => d.toJS() as Obj);
    expect(docs).toEqual(manifests);
  });
});

describe("validateManifests", () => {
  it("accepts the generated objects and rejects schema violations with their paths", () => {
    const [deployment] = createManifests({ image: "a:1" }) as Obj[];
    expect(() => validateManifests([deployment!])).not.toThrow();
    const broken = structuredClone(deployment!);
    broken.spec.replicas = "three";
    broken.spec.template.spec.containers[0].ports[0].containerPort = "grpc";
    expect(() => validateManifests([broken])).toThrow(
      /Deployment\/flyte-agent: \/spec\/replicas must be integer; \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer/,
    );
  });

  it("rejects an object whose kind has no schema", () => {
    expect(() =>
      validateManifests([{ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }]),
    ).toThrow(/Widget\/w: no schema for apiVersion example.com\/v1/);
  });
});

describe("semantic checks the API server (or a node drain) would apply, before anything is printed", () => {
  const base = { image: "a:1" } as const;
  it.each([
    [
      "a memory limit below the request",
      { ...base, requests: { memory: "512Mi" }, limits: { memory: "256Mi" } },
      /^the memory request 512Mi is above its limit 256Mi: raise the limit or lower the request$/,
    ],
    [
      "a cpu request above its limit, in other units",
      { ...base, requests: { cpu: "1.5" }, limits: { cpu: "1000m" } },
      /^the cpu request 1\.5 is above its limit 1000m/,
    ],
    [
      "a quantity the API server refuses",
      { ...base, requests: { memory: "lots" } },
      /memory request "lots" is not a Kubernetes quantity/,
    ],
    ["port 70000", { ...base, port: 70000 }, /^port must be a port number from 1 to 65535, got 70000$/],
    [
      "prometheus port 0",
      { ...base, prometheusPort: 0 },
      /^prometheus port must be a port number from 1 to 65535, got 0$/,
    ],
    [
      "a PDB of 150%",
      { ...base, replicas: 3, podDisruptionBudget: { minAvailable: "150%" } },
      /^PodDisruptionBudget minAvailable 150% is above 100%$/,
    ],
    [
      "a PDB min-available above the replicas",
      { ...base, replicas: 2, podDisruptionBudget: { minAvailable: 3 } },
      /^PodDisruptionBudget minAvailable 3 is not below the 2 replica\(s\), so no pod may be evicted and every node drain blocks/,
    ],
    [
      "a PDB min-available equal to the autoscaler's minimum",
      { ...base, autoscaling: { minReplicas: 2, maxReplicas: 4 }, podDisruptionBudget: { minAvailable: 2 } },
      /minAvailable 2 is not below the 2 replica/,
    ],
    [
      "a task type with a space",
      { ...base, taskTypes: ["big query"] },
      /^task type "big query" may hold only letters, digits/,
    ],
    [
      "a secret name that is no DNS-1123 subdomain",
      { ...base, secretName: "My_Secret" },
      /secret name "My_Secret" is not a valid DNS-1123 subdomain/,
    ],
    [
      "a service account that is no DNS-1123 subdomain",
      { ...base, serviceAccountName: "Agent SA" },
      /service account "Agent SA" is not a valid DNS-1123 subdomain/,
    ],
    ["HPA max below min", { ...base, autoscaling: { minReplicas: 4, maxReplicas: 2 } }, /below min replicas/],
  ] as const)("refuses %s", (_name, options, message) => {
    expect(() => createManifests(options as never)).toThrow(message);
  });

  it("accepts what is valid: requests equal to limits, 100% maxUnavailable, dotted task types", () => {
    expect(() =>
      createManifests({
        ...base,
        replicas: 3,
        requests: { cpu: "1", memory: "1Gi" },
        limits: { cpu: "1000m", memory: "1024Mi" },
        podDisruptionBudget: { maxUnavailable: "100%" },
        taskTypes: ["bigquery_query_job_task", "spark.v2", "custom-task"],
      }),
    ).not.toThrow();
  });

  it("reads Kubernetes quantities", () => {
    expect(parseQuantity("500m")).toBe(0.5);
    expect(parseQuantity("1Gi")).toBe(2 ** 30);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity("256Mi")! < parseQuantity("300M")!).toBe(true);
    expect(parseQuantity("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(parseQuantity("-1")).toBeUndefined();
    expect(parseQuantity("1 Gi")).toBeUndefined();
  });
});

describe("renderDockerfile", () => {
  it("installs production dependencies only and runs the server as a non-root user", () => {
    const text = renderDockerfile({ taskTypes: ["a", "b"] });
    expect(text).toMatch(/^FROM node:22-slim$/m);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/^USER 1000:1000$/m);
    expect(text).toMatch(/^EXPOSE 8000 9090$/m);
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(text)![1]!) as string[];
    // The runtime package's command: the CLI is a dev dependency, not in the image.
    expect(cmd[0]).toBe("/app/node_modules/.bin/flyte-agent-serve");
    expect(cmd.slice(1)).toEqual([
      "agent",
      "--port",
      "8000",
      "--prometheus-port",
      "9090",
      "--grace-period",
      "30",
      "--task-types",
      "a,b",
    ]);
    expect(text.indexOf("USER")).toBeGreaterThan(text.indexOf("npm ci"));
    expect(text).not.toMatch(/AS build/);
  });

  it("builds in a stage of its own when the project has a build script, and ships no dev tooling", () => {
    const text = renderDockerfile({ build: true, healthCheck: "dist/health-check.js" });
    const [build, runtime] = text.split(/^FROM /m).slice(1);
    expect(build).toMatch(/^node:22-slim AS build$/m);
    expect(build).toMatch(/^RUN npm ci --no-audit --no-fund$/m);
    expect(build).toMatch(/^RUN npm run build$/m);
    // The runtime stage installs production dependencies itself and takes only dist/ from the build.
    expect(runtime).toMatch(/^RUN npm ci --omit=dev/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).not.toMatch(/^COPY \. \.$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .* CMD \["node","dist\/health-check.js"\]$/m);
  });

  it("prunes from the runtime stage's dependencies only the files a server never reads", async () => {
    // Every package manager's production install is followed by the same prune.
    for (const packageManager of ["npm", "pnpm", "yarn"] as const) {
      const runtime = renderDockerfile({ build: true, packageManager }).split(/^FROM /m)[2]!;
      expect(runtime).toContain(` && ${PRUNE_DEPENDENCIES}\n`);
    }
    const dir = await mkdtemp(join(tmpdir(), "prune-"));
    try {
      const files = {
        gone: [
          "zod/src/index.ts",
          "zod/index.d.ts",
          "zod/index.d.cts",
          "a/x.d.mts",
          "a/x.js.map",
          "a/x.cjs.map",
          "a/x.mjs.map",
          "a/x.d.ts.map",
          "a/x.mts",
        ],
        kept: [
          "zod/index.js",
          "zod/index.cjs",
          "a/x.mjs",
          "a/package.json",
          "a/LICENSE.md",
          "a/test/helper.js",
          "a/data.map",
          "a/tsconfig.json",
        ],
      };
      for (const f of [...files.gone, ...files.kept]) {
        await mkdir(dirname(join(dir, "node_modules", f)), { recursive: true });
        await writeFile(join(dir, "node_modules", f), "x");
      }
      await execa("sh", ["-c", PRUNE_DEPENDENCIES], { cwd: dir });
      const left = (await readdir(join(dir, "node_modules"), { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => relative(join(dir, "node_modules"), join(e.parentPath, e.name)));
      expect(left.sort()).toEqual([...files.kept].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("installs from pnpm's and yarn's lockfiles with their own commands", () => {
    const pnpm = renderDockerfile({ build: true, packageManager: "pnpm" });
    expect(pnpm).toMatch(/^RUN corepack enable pnpm$/m);
    expect(pnpm).toMatch(/^COPY package.json pnpm-lock.yaml \.\/$/m);
    expect(pnpm).toMatch(/^RUN pnpm install --frozen-lockfile --prod && find node_modules /m);
    const yarn = renderDockerfile({ packageManager: "yarn" });
    expect(yarn).toMatch(/^COPY package.json yarn.lock \.\/$/m);
    expect(yarn).toMatch(/^RUN yarn install --frozen-lockfile --production/m);
    expect(yarn).not.toMatch(/\bnpm /);
  });
});

describe("inspectProject", () => {
  it("copies local dev dependencies into the image too: the build stage installs them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "inspect-project-"));
    try {
      const pkg = {
        scripts: { build: "tsc" },
        dependencies: { "@flyte-agent/runtime": "file:./vendor/runtime.tgz" },
        devDependencies: { "flyte-agent": "file:./vendor/flyte-agent.tgz" },
      };
      await writeFile(join(dir, "package.json"), JSON.stringify(pkg));
      await writeFile(join(dir, "package-lock.json"), "{}");
      const facts = await inspectProject(dir);
      expect([...facts.localDependencies].sort()).toEqual(["vendor/flyte-agent.tgz", "vendor/runtime.tgz"]);
      const outside = { ...pkg, devDependencies: { "flyte-agent": "file:../flyte-agent" } };
      await writeFile(join(dir, "package.json"), JSON.stringify(outside));
      await expect(inspectProject(dir)).rejects.toThrow(
        /flyte-agent is a dependency on file:\.\.\/flyte-agent/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
