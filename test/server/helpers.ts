import {
  credentials as grpcCredentials,
  type ChannelCredentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import type { Logger } from "../../packages/runtime/src/core/context.js";
import {
  AgentMetadataServiceClient,
  AsyncAgentServiceClient,
  SyncAgentServiceClient,
} from "../../packages/runtime/src/gen/flyteidl/service/agent.js";
import type {
  ExecuteTaskSyncRequest,
  ExecuteTaskSyncResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";

/** Promise form of a grpc-js unary call. */
export function unary<Req, Res>(
  fn: (
    req: Req,
    md: Metadata,
    opts: { deadline?: number },
    cb: (e: ServiceError | null, r: Res) => void,
  ) => unknown,
  req: Req,
  deadlineMs?: number,
): Promise<Res> {
  const opts = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  return new Promise<Res>((resolve, reject) =>
    fn(req, new Metadata(), opts, (e, r) => (e ? reject(e) : resolve(r))),
  );
}

/** Resolves to the ServiceError of a call expected to fail. */
export async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error("expected the call to fail");
}

/** Clients of the three agent services on one address. */
export function clients(address: string, creds: ChannelCredentials = grpcCredentials.createInsecure()) {
  const async = new AsyncAgentServiceClient(address, creds);
  const sync = new SyncAgentServiceClient(address, creds);
  const meta = new AgentMetadataServiceClient(address, creds);
  return {
    async,
    sync,
    meta,
    close() {
      async.close();
      sync.close();
      meta.close();
    },
  };
}

/** Runs ExecuteTaskSync with the given messages and collects the answers. */
export function executeSync(
  client: SyncAgentServiceClient,
  messages: readonly ExecuteTaskSyncRequest[],
): Promise<ExecuteTaskSyncResponse[]> {
  const call = client.executeTaskSync();
  const responses: ExecuteTaskSyncResponse[] = [];
  const done = new Promise<ExecuteTaskSyncResponse[]>((resolve, reject) => {
    call.on("data", (r: ExecuteTaskSyncResponse) => responses.push(r));
    call.on("end", () => resolve(responses));
    call.on("error", reject);
  });
  for (const m of messages) call.write(m);
  call.end();
  return done;
}

/** A logger that keeps every line (with its bindings) for assertions. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const log =
      (level: string) =>
      (obj: unknown, msg?: string): void => {
        const fields =
          typeof obj === "object" && obj !== null ? (obj as Record<string, unknown>) : { msg: obj };
        lines.push({ level, ...bindings, ...fields, ...(msg !== undefined ? { msg } : {}) });
      };
    return {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return Object.assign(make({}), { lines });
}
