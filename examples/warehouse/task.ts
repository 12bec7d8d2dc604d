// The counterpart of flytekit's BigQuery example (`pyflyte run bigquery_task.py bigquery_doge_coin --version 10`):
//   npx flyte-agent run examples/warehouse/task.ts --version 10
import { defineTask, flyte } from "flyte-agent";
import { z } from "zod";
import "./src/agent.js";

/** Ten dogecoin transactions of one transaction version, as a parquet StructuredDataset. */
export const warehouseDogeCoin = defineTask({
  name: "warehouse_doge_coin",
  taskType: "warehouse_query",
  description: "Ten dogecoin transactions of a given version, from the local warehouse",
  inputs: {
    version: z.int().describe("transaction version to select (1-12)"),
    slow: z.boolean().default(false).describe("make the query take about 30 seconds"),
  },
  outputs: { results: flyte.structuredDataset() },
  sql: "SELECT * FROM crypto_dogecoin.transactions WHERE version = $version LIMIT 10",
  timeout: "10m",
});
