export {
  BuiltinAgentName,
  builtinAgentNames,
  builtinAgents,
  parseBuiltinAgentNames,
  registerBuiltinAgents,
  type BuiltinAgentsOptions,
} from "./builtin-agents.js";
export { defineWebhookTask, type WebhookTaskOptions } from "./define-webhook-task.js";
export {
  WEBHOOK_TASK_TYPE,
  WebhookAgent,
  WebhookConfig,
  WebhookResponseType,
  isWebhookAgent,
  type WebhookAgentOptions,
} from "./webhook-agent.js";
