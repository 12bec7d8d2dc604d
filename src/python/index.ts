export {
  generatePythonPackage,
  pythonClassName,
  pythonPackageName,
  type GeneratedFile,
  type PythonPackageOptions,
} from "./generate-python.js";
export { ENDPOINT_ENV } from "./python-runtime.js";
export { writePythonPackage, type WritePythonResult } from "./write-python-package.js";
