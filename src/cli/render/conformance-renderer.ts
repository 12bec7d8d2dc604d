import { Chalk } from "chalk";
import type { CheckStatus, ConformanceCheck, ConformanceReport } from "../../conformance/index.js";
import type { RenderTarget } from "./run-renderer.js";

/** Turns conformance checks into terminal lines, or one JSON report with `json`. */
export interface ConformanceRenderer {
  /** A heading before the first check. */
  start(target: string, what: string): void;
  onCheck(check: ConformanceCheck): void;
  finish(report: ConformanceReport): void;
}

/** Builds the renderer of `flyte-agent conformance`; colours only on a terminal. */
export function createConformanceRenderer(options: {
  readonly json: boolean;
  readonly out: RenderTarget;
}): ConformanceRenderer {
  const { out } = options;
  if (options.json) {
    return {
      start() {},
      onCheck() {},
      finish: (report) => out.write(`${JSON.stringify(report, null, 2)}\n`),
    };
  }
  const chalk = new Chalk({ level: out.isTTY && !process.env.NO_COLOR ? 1 : 0 });
  const tag: Record<CheckStatus, string> = {
    pass: chalk.green("PASS"),
    fail: chalk.red("FAIL"),
    warn: chalk.yellow("WARN"),
    skip: chalk.dim("SKIP"),
  };
  const heading: Record<1 | 2, string> = {
    1: "Flyte 1 — flyteidl.service, as FlytePropeller 1.16.8 calls it",
    2: "Flyte 2 — flyteidl2.connector, as Flyte 2's executor calls it",
  };
  const tally = (checks: readonly ConformanceCheck[]) => {
    const n = { pass: 0, fail: 0, warn: 0, skip: 0 };
    for (const c of checks) n[c.status] += 1;
    return `${n.pass} passed, ${n.fail} failed, ${n.warn} warned, ${n.skip} skipped`;
  };
  let section: 1 | 2 | undefined;
  return {
    start(target, what) {
      out.write(`Conformance of ${target} (${what}) against Flyte's agent contracts\n\n`);
    },
    onCheck(check) {
      // Checks come protocol by protocol: a heading where the protocol changes.
      if (check.flyte && check.flyte !== section) {
        section = check.flyte;
        out.write(`\n${chalk.bold(heading[check.flyte])}\n`);
      }
      out.write(`${tag[check.status]}  ${chalk.bold(check.id)}: ${check.rule}\n      ${check.evidence}\n`);
    },
    finish(report) {
      const verdict = report.ok ? chalk.green("conforms") : chalk.red("does not conform");
      const per = ([1, 2] as const)
        .map((p) => ({ p, checks: report.checks.filter((c) => c.flyte === p) }))
        .filter(({ checks }) => checks.length > 0)
        .map(({ p, checks }) => {
          const ok = !checks.some((c) => c.status === "fail");
          return `  Flyte ${p}: ${ok ? chalk.green("conforms") : chalk.red("does not conform")} (${tally(checks)})\n`;
        });
      const states = report.protocols;
      const notServed = (
        [
          ["flyte1", 1],
          ["flyte2", 2],
        ] as const
      )
        .filter(([k]) => states[k] === "not-served")
        .map(([, p]) => `  Flyte ${p}: not served\n`);
      out.write(
        `\n${report.endpoint} ${verdict}: ${tally(report.checks)} (${(report.durationMs / 1000).toFixed(1)}s)\n${per.join("")}${notServed.join("")}`,
      );
    },
  };
}
