import type { AgentInfo } from "../core/registry.js";
import { formatCategory } from "../core/task-category.js";

/** What the start-up banner shows. */
export interface BannerInfo {
  readonly agents: readonly AgentInfo[];
  readonly address: string;
  readonly tls: "plaintext" | "TLS" | "mutual TLS";
  readonly metricsPort?: number | undefined;
  readonly version?: string;
  /** Worker processes sharing the port, when more than one. */
  readonly workers?: number;
}

/**
 * The human-readable start-up banner: where the server listens and a table of the agents it serves
 * (name, task categories, sync or async), as `pyflyte serve agent` prints, and the protocols served.
 */
export function formatBanner(info: BannerInfo): string {
  const header = ["Agent", "Task categories", "Sync"];
  const rows = info.agents.map((a) => [
    a.name,
    a.categories.map(formatCategory).join(", "),
    a.isSync ? "yes" : "no",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join("   ")}`.trimEnd();
  const lines = [
    `flyte-agent${info.version ? ` ${info.version}` : ""} serving on ${info.address} (${info.tls})` +
      (info.metricsPort !== undefined ? `, metrics on :${info.metricsPort}/metrics` : "") +
      (info.workers !== undefined && info.workers > 1 ? `, ${info.workers} workers` : ""),
    // Flyte 2 has no sync RPC: a sync agent reaches it through CreateTask (async-connector-service.ts).
    "for Flyte 1 (flyteidl.service) and Flyte 2 (flyteidl2.connector; sync agents through CreateTask)",
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...(rows.length > 0
      ? rows.map(line)
      : ["  (no agents loaded: pass --modules or declare flyteAgent.modules in package.json)"]),
    "",
  ];
  return `${lines.join("\n")}\n`;
}
