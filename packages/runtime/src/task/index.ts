export {
  SqlDialect,
  TASK_DEFINITION_BRAND,
  defineTask,
  isTaskDefinition,
  type JsonObject,
  type JsonValue,
  type TaskCacheOptions,
  type TaskContainerOptions,
  type TaskDefinition,
  type TaskOptions,
} from "./define-task.js";
export { RUNTIME_FLAVOR, runtimeVersion } from "./runtime-version.js";
