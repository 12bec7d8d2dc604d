import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { stringify } from "yaml";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import {
  type PropellerAgentConfig,
  parsePropellerConfig,
} from "@flyte-agent/runtime/internal/propeller/config.js";
import { defaultDeploymentTimeout } from "./propeller-routing.js";

/**
 * The plugin id Flyte 2's executor registers the connector plugin under, and the config section it
 * reads: `plugins.connector-service` (flyteorg/flyte main,
 * `flyteplugins/go/tasks/plugins/webapi/connector/config.go:55` and `plugin.go:35`).
 */
export const FLYTE2_CONNECTOR_PLUGIN = "connector-service";

/** Options of {@link createFlyte2ConnectorConfig}. */
export interface Flyte2ConnectorConfigOptions {
  /** The entry id under `connectors` (lower case: the config loader lowercases map keys). */
  readonly agentId: string;
  /** What the executor dials, e.g. `dns:///my-agent.flyte.svc.cluster.local:8000`. */
  readonly endpoint: string;
  /** Task types routed to this entry through `connectorForTaskTypes`. */
  readonly taskTypes: readonly string[];
  /** Plaintext gRPC (in-cluster). @default true */
  readonly insecure?: boolean;
  /** gRPC service config, e.g. round_robin for a headless Service. @default none */
  readonly defaultServiceConfig?: string;
  /** @default 10s, the `defaultConnector` deadline of Flyte 2 (`connector/config.go:46`) */
  readonly defaultTimeout?: string;
  /** Only tasks of this project go to the entry (`Deployment.Project`, `connector/config.go:105`). @default all */
  readonly project?: string;
  /** Only tasks of this domain go to the entry (`Deployment.Domain`, `connector/config.go:108`). @default all */
  readonly domain?: string;
  /** Name of the ConfigMap. @default `<agentId>-connector-config` */
  readonly configMapName?: string;
  /** Namespace of the Flyte 2 release. @default "flyte" */
  readonly namespace?: string;
}

/** The Flyte 2 connector config for one agent deployment, ready to apply and already checked. */
export interface Flyte2ConnectorConfig {
  /** The ConfigMap holding {@link fileName}; validated against the Kubernetes schema. */
  readonly configMap: Record<string, unknown> & {
    readonly kind: "ConfigMap";
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly data: Readonly<Record<string, string>>;
  };
  /** The config file's name inside the ConfigMap (the executor reads every file of its config dir). */
  readonly fileName: string;
  /** The config file itself (`plugins.connector-service` + `tasks.task-plugins`). */
  readonly text: string;
  /** A values file for the flyte-binary chart that projects the ConfigMap into the executor's config. */
  readonly helmValues: string;
  /** The file as the executor's loader resolves it (what was checked). */
  readonly config: PropellerAgentConfig;
  /** What a platform team must know, one sentence each. */
  readonly notes: readonly string[];
}

const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// ConfigMap data keys: `[-._a-zA-Z0-9]+` (k8s.io/apimachinery validation.IsConfigMapKey).
const configMapKey = /^[-._a-zA-Z0-9]+$/;

function invalid(message: string): FlyteAgentError {
  return new FlyteAgentError(ErrorCode.INVALID_CONFIG, `Flyte 2 connector config: ${message}`);
}

/**
 * Writes the Flyte 2 executor's connector config for one agent deployment, as a ConfigMap a platform
 * team applies next to the flyte-binary chart's own (flyteorg/flyte main,
 * `charts/flyte-binary/templates/deployment.yaml:217`: the config volume projects the chart's ConfigMap
 * plus every ConfigMap in `configuration.extraInlineConfigMapRefs`; the executor reads all their
 * files and merges them in order, `flytestdlib/config/viper/collection.go:116`).
 *
 * The file holds `plugins.connector-service.connectors.<id>` and `connectorForTaskTypes`
 * (`connector/config.go:70,76`) and maps each task type to the plugin in
 * `tasks.task-plugins.default-for-task-types` (`executor/pkg/config/task_plugin_config.go:27`), without
 * which the executor hands the task to its default plugin. Maps are written as maps, so they merge
 * with the chart's `default-for-task-types` map (viper's merge skips a key whose type differs between
 * files); a task type with upper-case letters is written in the list form, which keeps its case
 * (`flytestdlib/config/viper/viper.go:179`), and the notes say it does not merge with a map.
 * The result is read back with the loader `run --config` uses and must route every task type here.
 * @throws FlyteAgentError (`INVALID_CONFIG`) naming the bad option or the failed check.
 */
export function createFlyte2ConnectorConfig(options: Flyte2ConnectorConfigOptions): Flyte2ConnectorConfig {
  const { agentId, taskTypes } = options;
  if (taskTypes.length === 0) throw invalid("no task types to route (pass at least one)");
  if (!dnsLabel.test(agentId)) {
    throw invalid(
      `connector id ${JSON.stringify(agentId)} must be lower-case letters, digits and '-' (the config loader lowercases map keys, so routes to other ids are dropped)`,
    );
  }
  const namespace = options.namespace ?? "flyte";
  if (!dnsLabel.test(namespace))
    throw invalid(`namespace ${JSON.stringify(namespace)} is not a valid DNS label`);
  const name = options.configMapName ?? `${agentId}-connector-config`;
  if (!dnsSubdomain.test(name)) {
    throw invalid(`ConfigMap name ${JSON.stringify(name)} is not a valid DNS-1123 subdomain`);
  }
  // After the chart's 000-…/001-…/100-inline-config.yaml, so a scalar set here wins.
  const fileName = `200-connector-${agentId}.yaml`;
  if (!configMapKey.test(fileName)) throw invalid(`file name ${fileName} is not a valid ConfigMap key`);
  const keepCase = taskTypes.some((t) => t !== t.toLowerCase());
  const routes = (target: (t: string) => string) =>
    keepCase
      ? taskTypes.map((t) => ({ [t]: target(t) }))
      : Object.fromEntries(taskTypes.map((t) => [t, target(t)]));
  const entry = {
    endpoint: options.endpoint,
    insecure: options.insecure ?? true,
    ...(options.defaultServiceConfig ? { defaultServiceConfig: options.defaultServiceConfig } : {}),
    defaultTimeout: options.defaultTimeout ?? defaultDeploymentTimeout("connector-service"),
    ...(options.project ? { project: options.project } : {}),
    ...(options.domain ? { domain: options.domain } : {}),
  };
  const file = {
    plugins: {
      [FLYTE2_CONNECTOR_PLUGIN]: {
        connectors: { [agentId]: entry },
        connectorForTaskTypes: routes(() => agentId),
      },
    },
    tasks: { "task-plugins": { "default-for-task-types": routes(() => FLYTE2_CONNECTOR_PLUGIN) } },
  };
  const text = stringify(file, { lineWidth: 0 });
  const config = checkFile(text, options);
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap" as const,
    metadata: {
      name,
      namespace,
      labels: {
        "app.kubernetes.io/managed-by": "flyte-agent",
        "app.kubernetes.io/component": "connector-config",
      },
    },
    data: { [fileName]: text },
  };
  try {
    new ConfigMap(configMap).validate();
  } catch (err) {
    throw invalid(`the ConfigMap fails the Kubernetes schema: ${(err as Error).message}`);
  }
  const helmValues = stringify({ configuration: { extraInlineConfigMapRefs: [name] } }, { lineWidth: 0 });
  const notes = [
    `Flyte 2: ConfigMap ${namespace}/${name} routes ${taskTypes.join(", ")} to ${agentId} (${options.endpoint}) in plugins.connector-service; the flyte-binary chart reads it once it is listed in configuration.extraInlineConfigMapRefs (flyte2-values.yaml; a values list replaces the chart's, so merge it with any refs you already have)`,
  ];
  if (keepCase) {
    notes.push(
      `Flyte 2: ${taskTypes.filter((t) => t !== t.toLowerCase()).join(", ")} has upper-case letters, so the routes are written as lists of one-key maps (the only form that keeps the case); they replace, rather than merge with, the same keys written as maps in another config file`,
    );
  }
  return { configMap, fileName, text, helmValues, config, notes };
}

/** Reads the file back as the executor's loader does and checks it routes every task type here. */
function checkFile(text: string, options: Flyte2ConnectorConfigOptions): PropellerAgentConfig {
  const config = parsePropellerConfig(text, "Flyte 2 connector config");
  if (config.flavor !== FLYTE2_CONNECTOR_PLUGIN) throw invalid("the file holds no connector-service section");
  const warning = config.warnings[0];
  if (warning) throw invalid(`${warning.key}: ${warning.message}`);
  const deployment = config.agents[options.agentId];
  if (!deployment || deployment.endpoint !== options.endpoint) {
    throw invalid(`connectors.${options.agentId} does not resolve to ${options.endpoint}`);
  }
  for (const t of options.taskTypes) {
    if (config.agentForTaskTypes[t] !== options.agentId)
      throw invalid(`task type ${t} does not route to ${options.agentId} in connectorForTaskTypes`);
    if (!config.pluginTaskTypes.includes(t))
      throw invalid(`task type ${t} is not handed to the connector plugin in default-for-task-types`);
  }
  return config;
}
