import { readFileSync } from "node:fs";
import os from "node:os";

/** Options of {@link availableCpus}; the defaults read this machine. */
export interface AvailableCpusOptions {
  /** Reads a file, or returns undefined when it cannot be read. @default `fs.readFileSync` */
  readonly readFile?: (file: string) => string | undefined;
  /** CPUs the process may run on (cpuset/affinity aware). @default `os.availableParallelism()` */
  readonly parallelism?: number;
}

/** A CPU limit as `quota / period` (both in microseconds), or undefined for "no limit". */
function limit(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

/**
 * The container's CPU limit from its cgroup: `cpu.max` (cgroup v2, `"<quota> <period>"` or
 * `"max <period>"`), else `cpu.cfs_quota_us` / `cpu.cfs_period_us` (cgroup v1, quota -1 = none).
 * Undefined when no limit is set or the files are absent (not Linux, or no cgroup mounted).
 */
export function cgroupCpuLimit(
  readFile: (file: string) => string | undefined = readText,
): number | undefined {
  const v2 = readFile("/sys/fs/cgroup/cpu.max")?.trim().split(/\s+/);
  if (v2 && v2.length >= 1 && v2[0] !== "") {
    return v2[0] === "max" ? undefined : limit(Number(v2[0]), Number(v2[1] ?? 100_000));
  }
  for (const dir of ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]) {
    const quota = readFile(`${dir}/cpu.cfs_quota_us`);
    const period = readFile(`${dir}/cpu.cfs_period_us`);
    if (quota !== undefined && period !== undefined) return limit(Number(quota), Number(period));
  }
  return undefined;
}

/**
 * The CPUs this process may use: the cgroup CPU limit (what a Kubernetes `resources.limits.cpu`
 * becomes), rounded down and at least 1, bounded by `os.availableParallelism()`. Rounding down, as
 * Go's automaxprocs does, because a worker per fractional CPU would only be throttled. Without a
 * limit, it is `os.availableParallelism()`.
 *
 * @example
 * ```ts
 * availableCpus(); // 2 in a pod with `limits: { cpu: "2500m" }` on a 16-core node
 * ```
 */
export function availableCpus(options: AvailableCpusOptions = {}): number {
  const parallelism = Math.max(1, options.parallelism ?? os.availableParallelism());
  const cpuLimit = cgroupCpuLimit(options.readFile ?? readText);
  if (cpuLimit === undefined) return parallelism;
  return Math.min(parallelism, Math.max(1, Math.floor(cpuLimit)));
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
