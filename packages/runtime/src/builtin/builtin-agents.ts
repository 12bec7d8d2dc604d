import type { Agent } from "../core/agent.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import type { AgentRegistry } from "../core/registry.js";
import { createSensorEngine, isSensorEngine, type SensorEngineOptions } from "../sensor/sensor-engine.js";
import { isWebhookAgent, WebhookAgent, type WebhookAgentOptions } from "./webhook-agent.js";

/** The built-in agents a server can be asked to serve. */
export const BuiltinAgentName = {
  /** The sensor engine (task type `sensor`). */
  SENSOR: "sensor",
  /** The webhook agent (task type `webhook`). */
  WEBHOOK: "webhook",
} as const;
export type BuiltinAgentName = (typeof BuiltinAgentName)[keyof typeof BuiltinAgentName];

/** Every built-in agent name. */
export const builtinAgentNames: readonly BuiltinAgentName[] = Object.values(BuiltinAgentName);

/** Options of the built-in agents. */
export interface BuiltinAgentsOptions {
  readonly sensor?: SensorEngineOptions;
  readonly webhook?: WebhookAgentOptions;
}

/**
 * Parses a list of built-in agent names as given on a command line (`"sensor,webhook"`, repeated
 * flags, or `"all"`), without duplicates.
 * @throws FlyteAgentError (`INVALID_CONFIG`) naming an unknown name and the known ones.
 */
export function parseBuiltinAgentNames(values: string | readonly string[]): BuiltinAgentName[] {
  const items = (typeof values === "string" ? [values] : values)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== "");
  const out = new Set<BuiltinAgentName>();
  for (const item of items) {
    if (item === "all") builtinAgentNames.forEach((n) => out.add(n));
    else if ((builtinAgentNames as readonly string[]).includes(item)) out.add(item as BuiltinAgentName);
    else {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `unknown built-in agent "${item}" (available: ${builtinAgentNames.join(", ")}, or all)`,
      );
    }
  }
  return [...out];
}

/**
 * New instances of the named built-in agents. Nothing is registered: built-ins are opt-in, so a
 * deployment advertises exactly the agents it was given.
 *
 * @example
 * ```ts
 * const registry = new AgentRegistry();
 * for (const agent of builtinAgents(["sensor", "webhook"])) registry.register(agent);
 * ```
 */
export function builtinAgents(
  names: readonly BuiltinAgentName[],
  options: BuiltinAgentsOptions = {},
): Agent[] {
  return parseBuiltinAgentNames(names).map((name) =>
    name === BuiltinAgentName.SENSOR ? createSensorEngine(options.sensor) : new WebhookAgent(options.webhook),
  );
}

/**
 * Registers the named built-in agents in `registry` and returns what it registered. A built-in the
 * registry already holds (for example registered by a loaded module) is kept, so calling this twice
 * is harmless.
 * @throws DuplicateAgentError when another agent already serves a built-in's task type.
 */
export function registerBuiltinAgents(
  registry: AgentRegistry,
  names: readonly BuiltinAgentName[],
  options: BuiltinAgentsOptions = {},
): Agent[] {
  const added: Agent[] = [];
  for (const agent of builtinAgents(names, options)) {
    const { name, version } = agent.taskCategory;
    if (registry.has(name, version)) {
      const existing = registry.getAgent(name, version);
      if (
        (isSensorEngine(agent) && isSensorEngine(existing)) ||
        (isWebhookAgent(agent) && isWebhookAgent(existing))
      ) {
        continue;
      }
    }
    registry.register(agent);
    added.push(agent);
  }
  return added;
}
