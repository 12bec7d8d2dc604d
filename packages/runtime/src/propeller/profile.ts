import type { PluginFlavor } from "./config.js";

/**
 * Which executor's rules apply. The agent plugin of FlytePropeller 1.16.8 (Flyte 1) and the
 * connector plugin of Flyte 2's executor (flyteorg/flyte `main`,
 * `flyteplugins/go/tasks/plugins/webapi/connector/`) run on the same webapi machinery (the
 * AutoRefreshCache, the GetTask failure budget, the rate limiter, task deadlines, output rules), so
 * they are one model here; where they differ, the difference is a field of this profile.
 */
export const FlyteVersion = { V1: 1, V2: 2 } as const;
export type FlyteVersion = (typeof FlyteVersion)[keyof typeof FlyteVersion];

/** How one executor differs from the other. */
export interface PropellerProfile {
  readonly flyte: FlyteVersion;
  /** For messages: `FlytePropeller` or `Flyte 2's executor`. */
  readonly executor: string;
  /** The noun of the plugin's own messages: `agent` or `connector`. */
  readonly noun: "agent" | "connector";
  /** The config sections this executor reads. */
  readonly flavors: readonly PluginFlavor[];
  /**
   * An unset phase falls back to the deprecated `Resource.state` (Flyte 1, `agent/plugin.go:338-362`);
   * Flyte 2's Resource has no `state`, so an unset phase is a system error
   * (main `connector/plugin.go:379-380`).
   */
  readonly stateFallback: boolean;
  /** A sync service exists (Flyte 1 only; Flyte 2's connectors are all async). */
  readonly syncService: boolean;
  /**
   * The registry keys by (project, domain, name, version) and looks up (project, domain) → domain →
   * global → defaultConnector (main `connector/plugin.go:400-437`); Flyte 1 keeps one version per
   * name (`agent/client.go:95-170`).
   */
  readonly projectDomainRouting: boolean;
  /**
   * Create/Get/Delete carry `connection {task_type, secrets, configs}` read from TaskTemplate.custom
   * with the secret values resolved (main `connector/plugin.go:171-191,248-253,291-295`).
   */
  readonly sendsConnection: boolean;
  /**
   * Task execution metadata carries max_attempts and interruptible. Flyte 2's
   * `buildTaskExecutionMetadata` fills only id, namespace, labels, annotations, service account,
   * environment and identity (main `connector/plugin.go:461-473`).
   */
  readonly sendsAttemptFields: boolean;
  /**
   * A GetTask `agent_error.code` can name the failure (sync path only, Flyte 1); Flyte 2's Resource
   * has no agent_error, so every failure is TaskFailedWithError (main `connector/plugin.go:347`).
   */
  readonly agentErrorField: boolean;
}

/** FlytePropeller 1.16.8's agent plugin (flyteorg/flyte tag v1.16.8). */
export const FLYTE1_PROFILE: PropellerProfile = {
  flyte: FlyteVersion.V1,
  executor: "FlytePropeller",
  noun: "agent",
  flavors: ["agent-service", "connector-service"],
  stateFallback: true,
  syncService: true,
  projectDomainRouting: false,
  sendsConnection: false,
  sendsAttemptFields: true,
  agentErrorField: true,
};

/** Flyte 2's connector plugin (flyteorg/flyte `main`, `flyteplugins/go/tasks/plugins/webapi/connector/`). */
export const FLYTE2_PROFILE: PropellerProfile = {
  flyte: FlyteVersion.V2,
  executor: "Flyte 2's executor",
  noun: "connector",
  // The plugin registers the `connector-service` sub-section of `plugins` (main `connector/config.go:55`).
  flavors: ["connector-service"],
  stateFallback: false,
  syncService: false,
  projectDomainRouting: true,
  sendsConnection: true,
  sendsAttemptFields: false,
  agentErrorField: false,
};

/** The profile of a Flyte major version. */
export function profileOf(flyte: FlyteVersion): PropellerProfile {
  return flyte === FlyteVersion.V2 ? FLYTE2_PROFILE : FLYTE1_PROFILE;
}
