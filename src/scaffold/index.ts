export {
  createProject,
  isTemplateKind,
  PackageManager,
  TemplateKind,
  type CreatedProject,
  type CreateProjectOptions,
} from "./create-project.js";
export { npmNameProblem, resolveProjectNames, type ProjectNameOptions, type ProjectNames } from "./names.js";
