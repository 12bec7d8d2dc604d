import { defineSensorTask } from "@flyte-agent/runtime";
import { StarterSensor } from "./agent.js";

/**
 * The sensor task: it succeeds once the watched object exists (and fails if that takes longer than
 * its timeout). It has no outputs; downstream tasks in a workflow wait on it. Its type is `sensor`
 * and its template names the sensor, as flytekit's sensor tasks do.
 */
export const starterTask = defineSensorTask({
  name: "starter_name.wait",
  sensor: StarterSensor,
  description: "Waits until an object exists in the (stand-in) object store.",
  timeout: "1h",
});
