export { renderDockerfile, serveArgs, SERVE_BINARY, type DockerfileOptions } from "./dockerfile.js";
export {
  createManifests,
  resolveManifestOptions,
  validateManifests,
  toYamlStream,
  serviceEndpoint,
  type Manifest,
  type ManifestOptions,
  type ResolvedManifestOptions,
  type ResourceQuantities,
} from "./manifests.js";
export {
  routeTaskTypes,
  unrouteAgent,
  defaultDeploymentTimeout,
  type RouteOptions,
  type UnrouteOptions,
  type RoutingPatch,
} from "./propeller-routing.js";
export { unifiedDiff } from "./unified-diff.js";
export {
  checkAgentEndpoint,
  type EndpointCheck,
  type EndpointCheckOptions,
  type EndpointCheckResult,
  type ExpectedCategory,
} from "./check-endpoint.js";
export { Kubectl, type KubectlOptions } from "./kubectl.js";
export {
  buildImage,
  dockerEngineAvailable,
  type BuildImageOptions,
  type BuildImageResult,
} from "./docker.js";
export {
  planDeploy,
  planCanary,
  planPromote,
  planRollback,
  planToYaml,
  writePlan,
  executePlan,
  canaryNames,
  CONTAINER_NAME,
  type DeployPlan,
  type DeployPlanOptions,
  type CanaryEndOptions,
  type CanaryChecks,
  type ExecuteOptions,
  type PlanStep,
} from "./plan.js";
export { DeployError } from "./errors.js";
export {
  runDeploy,
  runCanaryEnd,
  type DeployInput,
  type CommonInput,
  type DeployIo,
} from "./deploy-command.js";
