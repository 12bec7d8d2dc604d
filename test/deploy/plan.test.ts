import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { planCanary, planDeploy, planPromote, planRollback, planToYaml } from "../../src/deploy/plan.js";
import { parsePropellerConfig } from "../../packages/runtime/src/propeller/config.js";

const seed = readFileSync(new URL("./fixtures/propeller-configmap.yaml", import.meta.url), "utf8");

describe("deploy plans", () => {
  it("plans a stable deployment that routes its task types after the rollout", () => {
    const plan = planDeploy({
      name: "bq",
      image: "bq:1",
      taskTypes: ["bigquery_query_job_task"],
      propellerConfig: seed,
    });
    expect(plan.steps.map((s) => s.kind)).toEqual(["apply", "rollout", "apply"]);
    expect(plan.steps[0]!.undo).toBe("kubectl --namespace flyte delete deployment/bq service/bq");
    expect(parsePropellerConfig(plan.routing!.after).agentForTaskTypes.bigquery_query_job_task).toBe("bq");
    const kinds = parseAllDocuments(planToYaml(plan)).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(["Deployment", "Service", "ConfigMap"]);
  });

  it("plans a canary that is checked before it is routed, with only its task types", () => {
    const plan = planCanary({
      name: "bq",
      image: "bq:2",
      taskTypes: ["custom_task"],
      propellerConfig: seed,
      replicas: 5,
    });
    expect(plan.steps.map((s) => s.kind)).toEqual(["apply", "rollout", "check", "apply"]);
    const check = plan.steps[2]!;
    expect(check.kind === "check" && check.expected).toEqual(["custom_task"]);
    expect(check.kind === "check" && check.service).toBe("bq-canary");
    expect(plan.steps[3]!.undo).toBe("flyte-agent deploy rollback --name bq --namespace flyte");
    const deployment = plan.manifests[0] as any;
    expect(deployment.metadata.name).toBe("bq-canary");
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.containers[0].args).toContain("custom_task");
    expect(parsePropellerConfig(plan.routing!.after).agents["bq-canary"]!.endpoint).toBe(
      "dns:///bq-canary.flyte.svc.cluster.local:8000",
    );
  });

  it("refuses a canary without task types", () => {
    expect(() => planCanary({ image: "a:1" })).toThrow(/a canary needs --task-types/);
  });

  it("plans a promotion: new image on stable, routing back, canary deleted", () => {
    const canary = planCanary({
      name: "bq",
      image: "bq:2",
      taskTypes: ["custom_task"],
      propellerConfig: seed,
    });
    const plan = planPromote({ name: "bq", propellerConfig: canary.routing!.after });
    expect(plan.steps.map((s) => s.kind)).toEqual(["set-image", "rollout", "apply", "delete"]);
    const setImage = plan.steps[0]!;
    expect(setImage.kind === "set-image" && setImage.image).toEqual({ from: "bq-canary" });
    expect(plan.routing!.after).toBe(seed);
    expect(plan.steps[3]!.kind === "delete" && plan.steps[3]!.resources).toEqual([
      "deployment/bq-canary",
      "service/bq-canary",
    ]);
  });

  it("plans a rollback that removes the routing before the canary", () => {
    const canary = planCanary({
      name: "bq",
      image: "bq:2",
      taskTypes: ["custom_task"],
      propellerConfig: seed,
    });
    const plan = planRollback({ name: "bq", propellerConfig: canary.routing!.after });
    expect(plan.steps.map((s) => s.kind)).toEqual(["apply", "delete"]);
    expect(plan.routing!.after).toBe(seed);
    expect(plan.steps.every((s) => s.undo.length > 0)).toBe(true);
  });
});
