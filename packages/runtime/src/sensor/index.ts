export { defineSensorTask, type SensorTaskConfig, type SensorTaskOptions } from "./define-sensor-task.js";
export { FileSensor, type FileSensorInputs } from "./file-sensor.js";
export { SensorBase, SensorRegistry, sensorNameOf, type SensorClass } from "./sensor.js";
export {
  SENSOR_TASK_TYPE,
  SensorEngine,
  SensorMetadata,
  createSensorEngine,
  isSensorEngine,
  type SensorEngineOptions,
} from "./sensor-engine.js";
