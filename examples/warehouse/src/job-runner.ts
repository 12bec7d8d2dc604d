// The warehouse's job process: runs one query outside the agent server and records its progress in
// the job directory (state.json, job.log, the parquet result), so any agent replica can report on it.
// Started detached by jobs.ts as `node --import tsx job-runner.ts <job-dir>`; SIGTERM cancels it.
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DuckDBInstance } from "@duckdb/node-api";

const jobDir = process.argv[2] ?? "";
if (jobDir === "") {
  process.stderr.write("usage: node --import tsx job-runner.ts <job-dir>\n");
  process.exit(2);
}
interface Job {
  id: string;
  sql: string;
  params: Record<string, string | number | boolean | null>;
  output_dir: string;
  duration_ms: number;
  dataset_rows?: number;
}

const spec = JSON.parse(readFileSync(join(jobDir, "job.json"), "utf8")) as Job;
const startedAt = new Date().toISOString();

function log(line: string): void {
  appendFileSync(join(jobDir, "job.log"), `${new Date().toISOString()} ${line}\n`);
}

function writeState(state: Record<string, unknown>): void {
  // Readers must never see half a file: write aside, then rename over.
  const tmp = join(jobDir, `state.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, started_at: startedAt, ...state }, null, 2));
  renameSync(tmp, join(jobDir, "state.json"));
}

process.on("SIGTERM", () => {
  log("cancelled (SIGTERM)");
  writeState({ state: "CANCELLED", finished_at: new Date().toISOString() });
  process.exit(143);
});

// A deterministic stand-in for bigquery-public-data.crypto_dogecoin.transactions.
const DATASET_SQL = `
CREATE SCHEMA crypto_dogecoin;
CREATE TABLE crypto_dogecoin.transactions AS
SELECT
  md5('doge-tx-' || i) AS hash,
  (191 + (i * 37) % 800)::INTEGER AS size,
  (191 + (i * 37) % 800)::INTEGER AS virtual_size,
  (1 + (i * 7) % 12)::INTEGER AS version,
  CASE WHEN i % 13 = 0 THEN 4500000 + i ELSE 0 END::BIGINT AS lock_time,
  md5('doge-block-' || (i // 20)) AS block_hash,
  (4500000 + i // 20)::BIGINT AS block_number,
  TIMESTAMP '2023-01-01 00:00:00' + to_seconds((i // 20) * 60) AS block_timestamp,
  (1 + i % 4)::INTEGER AS input_count,
  (1 + (i * 3) % 5)::INTEGER AS output_count,
  round(((i * 7919) % 1000000) / 97.0 + 1, 8) AS input_value,
  round(((i * 7919) % 1000000) / 97.0 + 1 - (((i * 31) % 100) / 100.0 + 0.01), 8) AS output_value,
  i % 20 = 0 AS is_coinbase,
  round(((i * 31) % 100) / 100.0 + 0.01, 8) AS fee
FROM range(${Number(spec.dataset_rows) || 5000}) t(i);
`;

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

async function main(): Promise<void> {
  writeState({ state: "RUNNING" });
  log(`job ${spec.id} started (pid ${process.pid})`);
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  await connection.run(DATASET_SQL);
  if (spec.duration_ms > 0) {
    log(`slow mode: the query takes ${Math.round(spec.duration_ms / 1000)}s`);
    await sleep(spec.duration_ms);
  }
  log(`query: ${spec.sql.replace(/\s+/g, " ").trim()}`);
  const prepared = await connection.prepare(`CREATE TEMP TABLE result AS ${spec.sql.replace(/;\s*$/, "")}`);
  const params: Record<string, string | number | boolean | null> = {};
  for (let i = 1; i <= prepared.parameterCount; i++) {
    const name = prepared.parameterName(i);
    const value = spec.params[name];
    if (value === undefined) throw new Error(`the query uses $${name}, but the task has no input "${name}"`);
    params[name] = value;
  }
  log(`parameters: ${JSON.stringify(params)}`);
  if (prepared.parameterCount > 0) prepared.bind(params);
  await prepared.run();
  const outputDir = spec.output_dir || join(jobDir, "results");
  mkdirSync(outputDir, { recursive: true });
  const file = join(outputDir, "part-0.parquet");
  await connection.run(`COPY result TO ${sqlString(file)} (FORMAT parquet)`);
  const count = await connection.runAndReadAll("SELECT count(*)::INTEGER AS n FROM result");
  const rows = Number(count.getRowObjectsJson()[0]?.n ?? 0);
  const preview = (await connection.runAndReadAll("SELECT * FROM result LIMIT 5")).getRowObjectsJson();
  log(`${rows} rows written to ${file}`);
  for (const row of preview) log(`  ${JSON.stringify(row)}`);
  writeState({
    state: "SUCCEEDED",
    finished_at: new Date().toISOString(),
    rows,
    output_uri: outputDir,
    preview,
  });
  connection.closeSync();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    log(`failed: ${message}`);
    writeState({ state: "FAILED", finished_at: new Date().toISOString(), error: message });
    process.exit(1);
  },
);
