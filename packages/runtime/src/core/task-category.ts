/** The key an agent serves: a task type name and its version (`TaskTemplate.type`, `task_type_version`). */
export interface TaskCategory {
  readonly name: string;
  /** @default 0 */
  readonly version: number;
}

/** Builds a category; the version defaults to 0 as in flytekit. */
export function taskCategory(name: string, version = 0): TaskCategory {
  return { name, version };
}

/** flytekit's string form of a category, used in messages: `bigquery_v0`. */
export function formatCategory(category: TaskCategory): string {
  return `${category.name}_v${category.version}`;
}
