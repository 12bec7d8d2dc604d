import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { importUserModule } from "@flyte-agent/runtime/internal/core/import-module.js";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { type TaskDefinition, isTaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";

/** What {@link loadTaskFile} found. */
export interface LoadedTaskFile {
  /** Absolute path of the file. */
  readonly path: string;
  /** Exported tasks by export name. */
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
}

/** Imports a module (TypeScript included, no build step) the way `flyte-agent run` does. */
export async function importModule(specifier: string, cwd = process.cwd()): Promise<Record<string, unknown>> {
  return importUserModule(specifier, cwd);
}

/**
 * Imports `modules` (agent registrations) then `file`, and collects the tasks `file` exports.
 * @throws FlyteAgentError (`INVALID_CONFIG`) when the file is missing or exports no task.
 */
export async function loadTaskFile(
  file: string,
  options: { readonly modules?: readonly string[]; readonly cwd?: string } = {},
): Promise<LoadedTaskFile> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `no such file: ${file}`);
  for (const m of options.modules ?? []) await importModule(m, cwd);
  const mod = await importModule(path, cwd);
  const tasks = new Map<string, TaskDefinition>();
  for (const [name, value] of Object.entries(mod)) if (isTaskDefinition(value)) tasks.set(name, value);
  if (tasks.size === 0) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `${file} exports no task: export one made with defineTask (e.g. \`export const myTask = defineTask({...})\`)`,
    );
  }
  return { path, tasks };
}

/**
 * Picks a task by export name or task name; with no name, the only task of the file.
 * @throws FlyteAgentError (`INVALID_CONFIG`) listing the available tasks.
 */
export function pickTask(loaded: LoadedTaskFile, name: string | undefined): TaskDefinition {
  const list = [...loaded.tasks.keys()].join(", ");
  if (name === undefined) {
    if (loaded.tasks.size === 1) return [...loaded.tasks.values()][0]!;
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `the file exports ${loaded.tasks.size} tasks; name one of: ${list}`,
    );
  }
  const hit = loaded.tasks.get(name) ?? [...loaded.tasks.values()].find((t) => t.name === name);
  if (!hit)
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `no task named "${name}" in the file; available: ${list}`,
    );
  return hit;
}
