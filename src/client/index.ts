export {
  AgentClient,
  RpcError,
  grpcTarget,
  statusName,
  type AgentClientOptions,
  type Answer,
  type CallOptions,
  type SyncReceipt,
  type TlsOptions,
} from "./agent-client.js";
export { ConnectorClient } from "./connector-client.js";
