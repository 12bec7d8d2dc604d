import { describe, expect, it } from "vitest";
import { availableCpus, cgroupCpuLimit } from "./available-cpus.js";

/** A file system holding only `files`. */
const fs = (files: Record<string, string>) => (file: string) => files[file];

describe("availableCpus", () => {
  it("reads a cgroup v2 cpu.max quota, rounded down, as Kubernetes writes limits.cpu 2500m", () => {
    const readFile = fs({ "/sys/fs/cgroup/cpu.max": "250000 100000\n" });
    expect(cgroupCpuLimit(readFile)).toBe(2.5);
    expect(availableCpus({ readFile, parallelism: 16 })).toBe(2);
  });

  it("is at least 1 under a fractional limit (limits.cpu 500m)", () => {
    expect(
      availableCpus({ readFile: fs({ "/sys/fs/cgroup/cpu.max": "50000 100000" }), parallelism: 8 }),
    ).toBe(1);
  });

  it("uses every available CPU when cgroup v2 says max (no limit)", () => {
    const readFile = fs({ "/sys/fs/cgroup/cpu.max": "max 100000\n" });
    expect(cgroupCpuLimit(readFile)).toBeUndefined();
    expect(availableCpus({ readFile, parallelism: 6 })).toBe(6);
  });

  it("reads cgroup v1 cfs quota and period, -1 meaning no limit", () => {
    const v1 = (quota: string) =>
      fs({
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": quota,
        "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
      });
    expect(availableCpus({ readFile: v1("300000\n"), parallelism: 8 })).toBe(3);
    expect(availableCpus({ readFile: v1("-1\n"), parallelism: 8 })).toBe(8);
    const merged = fs({
      "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "200000",
      "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "50000",
    });
    expect(availableCpus({ readFile: merged, parallelism: 8 })).toBe(4);
  });

  it("is bounded by the CPUs the process may run on (a cpuset smaller than the quota)", () => {
    expect(
      availableCpus({ readFile: fs({ "/sys/fs/cgroup/cpu.max": "800000 100000" }), parallelism: 2 }),
    ).toBe(2);
  });

  it("falls back to the available parallelism without cgroup files", () => {
    expect(availableCpus({ readFile: fs({}), parallelism: 3 })).toBe(3);
  });
});
