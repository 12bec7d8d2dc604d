// The counterpart of flytekit's file sensor example:
//   npx flyte-agent run examples/file-sensor/task.ts --path /tmp/ready.txt
// then, in another terminal: touch /tmp/ready.txt
import { FileSensor, defineSensorTask } from "flyte-agent";
import "./src/agent.js";

/** Waits (up to 10 minutes) until something exists at `path`: a local path or a file:// URI. */
export const waitForFile = defineSensorTask({
  name: "wait_for_file",
  sensor: FileSensor,
  timeout: "10m",
  description: "Wait until a file exists",
});
