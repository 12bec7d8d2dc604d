import { Metadata, type ServiceError } from "@grpc/grpc-js";
import type {
  ExecuteTaskSyncRequest,
  ExecuteTaskSyncResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import type { SyncAgentServiceClient } from "../../packages/runtime/src/gen/flyteidl/service/agent.js";

/** Promisifies a unary grpc-js client method. */
export function unary<Req, Res>(
  fn: (req: Req, md: Metadata, cb: (e: ServiceError | null, r: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, new Metadata(), (e, r) => (e ? reject(e) : resolve(r))));
}

/** Runs ExecuteTaskSync as FlytePropeller does: header, inputs, half-close, one answer. */
export function executeSync(
  client: SyncAgentServiceClient,
  header: Omit<NonNullable<ExecuteTaskSyncRequest["header"]>, "maxDatasetSizeBytes">,
  inputs: ExecuteTaskSyncRequest["inputs"],
): Promise<ExecuteTaskSyncResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.executeTaskSync();
    let answer: ExecuteTaskSyncResponse | undefined;
    stream.on("data", (m: ExecuteTaskSyncResponse) => (answer ??= m));
    stream.on("error", reject);
    stream.on("end", () => (answer ? resolve(answer) : reject(new Error("no answer"))));
    stream.write({ header: { ...header, maxDatasetSizeBytes: 0n }, inputs: undefined });
    stream.write({ header: undefined, inputs });
    stream.end();
  });
}
