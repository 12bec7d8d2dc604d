import { execa } from "execa";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { AgentServer } from "../../packages/runtime/src/server/index.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { startAgentServer } from "./agent-server.js";

const bin = fileURLToPath(new URL("../../bin/flyte-agent.js", import.meta.url));
const standIns = fileURLToPath(new URL("./fixtures/bin", import.meta.url));
const seedPath = fileURLToPath(new URL("./fixtures/propeller-configmap.yaml", import.meta.url));

interface Call {
  args: string[];
  stdin: string;
}

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), "deploy-cli-"));
  const kubectlLog = join(dir, "kubectl.jsonl");
  const dockerLog = join(dir, "docker.jsonl");
  writeFileSync(kubectlLog, "");
  writeFileSync(dockerLog, "");
  const env = {
    PATH: `${standIns}${delimiter}${process.env.PATH ?? ""}`,
    KUBECTL_LOG: kubectlLog,
    KUBECTL_CONFIGMAP: seedPath,
    DOCKER_LOG: dockerLog,
  };
  const calls = (file: string) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Call);
  return {
    dir,
    env,
    kubectl: () => calls(kubectlLog),
    docker: () => calls(dockerLog),
    /** The CLI's main in-process (kubectl and docker are still the stand-in executables on PATH). */
    run: (args: string[], extraEnv: Record<string, string> = {}) =>
      runCliInProcess(args, { env: { ...env, ...extraEnv }, cwd: dir }),
    /** The real binary, for the smoke test. */
    runBinary: (args: string[]) => execa("node", [bin, ...args], { env, reject: false, cwd: dir }),
  };
}

describe("flyte-agent deploy", () => {
  let canaryServer: AgentServer;
  let greedyServer: AgentServer;
  beforeAll(async () => {
    canaryServer = await startAgentServer({ allow: ["custom_task"] });
    greedyServer = await startAgentServer();
  });
  afterAll(async () => {
    await canaryServer.shutdown(100);
    await greedyServer.shutdown(100);
  });

  it("prints valid manifests on stdout by default and talks to no cluster (the binary)", async () => {
    const ws = workspace();
    const r = await ws.runBinary([
      "deploy",
      "--image",
      "bq:1",
      "--task-types",
      "custom_task",
      "--propeller-config",
      seedPath,
    ]);
    expect(r.exitCode).toBe(0);
    const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(["Deployment", "Service", "ConfigMap"]);
    expect(r.stderr).toMatch(/\+ {10}- custom_task: flyte-agent/);
    expect(r.stderr).toMatch(/deploy plan \(dry run; --apply runs it\)/);
    expect(ws.kubectl()).toEqual([]);
  });

  it("applies a canary through kubectl only after it passes its checks", async () => {
    const ws = workspace();
    const r = await ws.run([
      "deploy",
      "--canary",
      "--apply",
      "--name",
      "bq",
      "--image",
      "bq:2",
      "--task-types",
      "custom_task",
      "--context",
      "test-context",
      "--check-endpoint",
      canaryServer.address,
    ]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.exitCode).toBe(0);
    const calls = ws.kubectl();
    const verbs = calls.map((c) =>
      c.args
        .filter((a) => !a.startsWith("-"))
        .slice(2, 4)
        .join(" "),
    );
    expect(verbs).toEqual(["get configmap", "apply", "rollout status", "apply"]);
    for (const c of calls)
      expect(c.args.slice(0, 4)).toEqual(["--context", "test-context", "--namespace", "flyte"]);
    expect(calls[1]!.stdin).toMatch(/name: bq-canary/);
    expect(calls[1]!.stdin).toMatch(/- --task-types\n\s+- custom_task/);
    expect(calls[3]!.stdin).toMatch(
      /- custom_task: bq-canary # canary of custom_agent; previously custom_agent/,
    );
    expect(r.stderr).toMatch(/ok {3}task-types: serves exactly custom_task_v0/);
    expect(r.stderr).toMatch(
      /ok {3}conformance unknown-category: for conformance-unknown-\w+_v0: CreateTask NOT_FOUND, GetTask NOT_FOUND, DeleteTask NOT_FOUND/,
    );
    expect(r.stderr).toMatch(/ok {3}conformance get-agent: 1 agent\(s\) match ListAgents/);
    expect(r.stderr).toMatch(/undo: flyte-agent deploy rollback --name bq --namespace flyte/);
    expect(r.stderr).toMatch(/saved the original ConfigMap to .*propeller-configmap.before-canary.yaml/);
  });

  it("routes nothing to a canary that takes task types it was not given", async () => {
    const ws = workspace();
    const r = await ws.run([
      "deploy",
      "--canary",
      "--apply",
      "--name",
      "bq",
      "--image",
      "bq:2",
      "--task-types",
      "custom_task",
      "--check-endpoint",
      greedyServer.address,
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/FAIL task-types: not allowed echo_v0/);
    expect(r.stderr).toMatch(/error: the canary failed its checks .* so no traffic was routed to it/);
    expect(ws.kubectl().filter((c) => c.stdin.includes("kind: ConfigMap"))).toEqual([]);
  });

  it("promotes and rolls back a canary through kubectl", async () => {
    const ws = workspace();
    const canaryCm = join(ws.dir, "canary-cm.yaml");
    const dry = await ws.run([
      "deploy",
      "--canary",
      "--name",
      "bq",
      "--image",
      "bq:2",
      "--task-types",
      "custom_task",
      "--propeller-config",
      seedPath,
      "--out",
      ws.dir,
    ]);
    expect(dry.exitCode).toBe(0);
    writeFileSync(canaryCm, readFileSync(join(ws.dir, "propeller-configmap.yaml")));

    const promote = await ws.run([
      "deploy",
      "promote",
      "--apply",
      "--name",
      "bq",
      "--propeller-config",
      canaryCm,
    ]);
    expect(promote.stderr).not.toMatch(/error/);
    const calls = ws.kubectl().map((c) => c.args.slice(2));
    expect(calls).toContainEqual(["set", "image", "deployment/bq", "agent=bq:2"]);
    expect(calls.at(-1)).toEqual([
      "delete",
      "--ignore-not-found",
      "deployment/bq-canary",
      "service/bq-canary",
    ]);
    const configApply = ws.kubectl().find((c) => c.stdin.includes("kind: ConfigMap"))!;
    expect(configApply.stdin).toBe(readFileSync(seedPath, "utf8"));
    expect(promote.stderr).toMatch(/undo: kubectl --namespace flyte set image deployment\/bq agent=bq:1/);

    const rollback = await ws.run(["deploy", "rollback", "--name", "bq", "--propeller-config", canaryCm]);
    expect(rollback.exitCode).toBe(0);
    expect(rollback.stdout).toBe(readFileSync(seedPath, "utf8"));
  });

  it("says so in one sentence when kubectl is missing or the cluster is unreachable", async () => {
    const ws = workspace();
    const missing = await ws.run([
      "deploy",
      "--apply",
      "--image",
      "a:1",
      "--kubectl",
      "kubectl-that-is-not-installed",
    ]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(
      /error: kubectl-that-is-not-installed was not found on PATH; install kubectl/,
    );
    const down = await ws.run(["deploy", "--apply", "--image", "a:1"], { KUBECTL_UNREACHABLE: "1" });
    expect(down.exitCode).toBe(1);
    expect(down.stderr.trim()).toMatch(
      /^error: the Kubernetes cluster is unreachable \(Unable to connect to the server.*\); check --context and your kubeconfig$/m,
    );
    expect(down.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it("writes the project's Dockerfile and build instructions when no container engine answers (exit 1), and builds when one does", async () => {
    const ws = workspace();
    const project = join(ws.dir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ scripts: { build: "tsc" } }));
    writeFileSync(join(project, "package-lock.json"), "{}");
    const noEngine = await ws.run([
      "deploy",
      "--build",
      "--push",
      "--image",
      "reg.example/a:1",
      "--dir",
      project,
    ]);
    expect(noEngine.exitCode).toBe(1);
    const dockerfile = readFileSync(join(project, "Dockerfile"), "utf8");
    // The project has a build script: a build stage, then a runtime stage with the output only.
    expect(dockerfile).toMatch(
      /FROM node:22-slim AS build[\s\S]*RUN npm run build[\s\S]*COPY --from=build \/app\/dist/,
    );
    expect(noEngine.stderr).toMatch(
      /^error: no container engine is reachable .* so reg.example\/a:1 was not built; the Dockerfile is at .*: build and push it with:\n {2}docker build -t reg.example\/a:1/m,
    );
    expect(ws.docker().map((c) => c.args[0])).toEqual(["info"]);

    const built = await ws.run(
      ["deploy", "--build", "--push", "--image", "reg.example/a:1", "--dir", project],
      { DOCKER_ENGINE: "1" },
    );
    expect(built.exitCode).toBe(0);
    expect(built.stderr).toMatch(/built reg.example\/a:1 and pushed it/);
    expect(
      ws
        .docker()
        .slice(1)
        .map((c) => c.args.slice(0, 3)),
    ).toEqual([
      ["info", "--format", "{{.ServerVersion}}"],
      ["build", "-t", "reg.example/a:1"],
      ["push", "reg.example/a:1"],
    ]);
  });

  it("refuses to build an image from a directory that is no project, or whose flyte-agent the build cannot see", async () => {
    const ws = workspace();
    const empty = await ws.run(["deploy", "--build", "--image", "a:1", "--dir", join(ws.dir, "nothing")]);
    expect(empty.exitCode).toBe(1);
    expect(empty.stderr.trim()).toMatch(
      /^error: \S+nothing\/package.json is missing: pass --dir <agent project> \(a directory with package.json\)$/,
    );
    const project = join(ws.dir, "outside");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ dependencies: { "flyte-agent": "file:/opt/flyte-agent-0.1.0.tgz" } }),
    );
    const noLock = await ws.run(["deploy", "--build", "--image", "a:1", "--dir", project]);
    expect(noLock.exitCode).toBe(1);
    expect(noLock.stderr).toMatch(
      /has no lockfile \(package-lock.json, pnpm-lock.yaml, yarn.lock\): install the project once/,
    );
    writeFileSync(join(project, "package-lock.json"), "{}");
    const outside = await ws.run(["deploy", "--build", "--image", "a:1", "--dir", project]);
    expect(outside.exitCode).toBe(1);
    expect(outside.stderr.trim()).toMatch(
      /^error: flyte-agent is a dependency on file:\/opt\/flyte-agent-0.1.0.tgz, outside \S+, which an image build cannot see: copy it into the project/,
    );
    expect(ws.docker()).toEqual([]);
  });

  it("--flyte both writes the Flyte 2 connector ConfigMap and its chart values beside the patched propeller config", async () => {
    const ws = workspace();
    const out = join(ws.dir, "out");
    const r = await ws.run([
      "deploy",
      "--name",
      "bq-agent",
      "--image",
      "bq:1",
      "--task-types",
      "custom_task",
      "--propeller-config",
      seedPath,
      "--flyte",
      "both",
      "--out",
      out,
    ]);
    expect(r.exitCode).toBe(0);
    const cm = parseAllDocuments(
      readFileSync(join(out, "bq-agent-connector-config-configmap.yaml"), "utf8"),
    )[0]!.toJS() as {
      data: Record<string, string>;
    };
    expect(cm.data["200-connector-bq-agent.yaml"]).toMatch(
      /connectorForTaskTypes:\n\s+custom_task: bq-agent/,
    );
    expect(readFileSync(join(out, "flyte2-values.yaml"), "utf8")).toMatch(
      /extraInlineConfigMapRefs:\n\s+- bq-agent-connector-config/,
    );
    expect(readFileSync(join(out, "propeller-configmap.yaml"), "utf8")).toMatch(/custom_task: bq-agent/);
    expect(r.stderr).toMatch(/note: Flyte 2: ConfigMap flyte\/bq-agent-connector-config routes custom_task/);
    expect(ws.kubectl()).toEqual([]);
  });

  it("--flyte 2 --apply applies the Flyte 2 ConfigMap and neither reads nor changes FlytePropeller's", async () => {
    const ws = workspace();
    const r = await ws.run([
      "deploy",
      "--name",
      "bq-agent",
      "--image",
      "bq:1",
      "--task-types",
      "custom_task",
      "--flyte",
      "2",
      "--apply",
    ]);
    expect(r.exitCode).toBe(0);
    const calls = ws.kubectl();
    expect(calls.some((c) => c.args.includes("get") && c.args.includes("configmap"))).toBe(false);
    const applied = calls.filter((c) => c.args.includes("apply")).map((c) => c.stdin);
    expect(applied).toHaveLength(2);
    const cm = parseAllDocuments(applied[1]!)[0]!.toJS() as {
      kind: string;
      metadata: { name: string };
      data: Record<string, string>;
    };
    expect(cm).toMatchObject({ kind: "ConfigMap", metadata: { name: "bq-agent-connector-config" } });
    expect(cm.data["200-connector-bq-agent.yaml"]).toMatch(/custom_task: connector-service/);
    expect(applied.join("\n")).not.toMatch(/flyte-propeller-config/);
  });

  it("rejects bad flags with exit code 2", async () => {
    const ws = workspace();
    const r = await ws.run(["deploy", "--task-types", "a"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe("error: --image is required (the agent's container image, name:tag)");
    const bad = await ws.run(["deploy", "--image", "a:1", "--name", "Not_A_Label"]);
    expect(bad.exitCode).toBe(2);
    const flyte = await ws.run(["deploy", "--image", "a:1", "--flyte", "3"]);
    expect(flyte.exitCode).toBe(2);
    expect(flyte.stderr.trim()).toBe('error: --flyte must be 1, 2 or both, got "3"');
  });
});
