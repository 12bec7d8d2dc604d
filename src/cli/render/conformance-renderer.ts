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
  return {
    start(target, what) {
      out.write(`Conformance of ${target} (${what}) against FlytePropeller's contract\n\n`);
    },
    onCheck(check) {
      out.write(`${tag[check.status]}  ${chalk.bold(check.id)}: ${check.rule}\n      ${check.evidence}\n`);
    },
    finish(report) {
      const { pass, fail, warn, skip } = report.counts;
      const parts = [`${pass} passed`, `${fail} failed`, `${warn} warned`, `${skip} skipped`];
      const verdict = report.ok ? chalk.green("conforms") : chalk.red("does not conform");
      out.write(
        `\n${report.endpoint} ${verdict}: ${parts.join(", ")} (${(report.durationMs / 1000).toFixed(1)}s)\n`,
      );
    },
  };
}
