import { type Agent, isAgent } from "./agent.js";
import { AgentNotFoundError, DuplicateAgentError, ErrorCode, FlyteAgentError } from "./errors.js";
import { formatCategory, type TaskCategory } from "./task-category.js";

/** One entry of ListAgents: an agent name and the categories served under it. */
export interface AgentInfo {
  readonly name: string;
  readonly isSync: boolean;
  readonly categories: readonly TaskCategory[];
}

/** Options of {@link AgentRegistry.register}. */
export interface RegisterOptions {
  /** Replace the agent already registered for the category instead of failing. @default false */
  readonly override?: boolean;
}

/**
 * Agents by task category. `AgentRegistry.register(agent)` adds to the process-wide registry, which
 * lives on `globalThis` under a `Symbol.for` key so two copies of the library (a user's and the CLI's)
 * share it. Servers may build their own instance (for example filtered by an allowlist).
 */
export class AgentRegistry {
  readonly #byCategory = new Map<string, Agent>();

  /** The process-wide registry. */
  static get default(): AgentRegistry {
    const g = globalThis as { [registryKey]?: AgentRegistry };
    return (g[registryKey] ??= new AgentRegistry());
  }

  /** Registers in the process-wide registry. See {@link AgentRegistry.prototype.register}. */
  static register(agent: Agent, options?: RegisterOptions): void {
    AgentRegistry.default.register(agent, options);
  }

  /** Looks up in the process-wide registry. See {@link AgentRegistry.prototype.getAgent}. */
  static getAgent(name: string, version = 0): Agent {
    return AgentRegistry.default.getAgent(name, version);
  }

  /** Lists the process-wide registry. */
  static listAgents(): AgentInfo[] {
    return AgentRegistry.default.listAgents();
  }

  /**
   * Adds an agent for its task category.
   * @throws DuplicateAgentError (`Duplicate connector for task type: x_v0`) when the category is taken
   *   by another agent and `override` is not set. Registering the same instance twice is a no-op.
   */
  register(agent: Agent, options: RegisterOptions = {}): void {
    if (!isAgent(agent)) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        "register() takes an agent: an instance of a class extending AsyncAgentBase or SyncAgentBase",
      );
    }
    const key = formatCategory(agent.taskCategory);
    const existing = this.#byCategory.get(key);
    if (existing && existing !== agent && !options.override) throw new DuplicateAgentError(key);
    this.#byCategory.set(key, agent);
  }

  /**
   * The agent for a category.
   * @throws AgentNotFoundError naming the category and listing the registered ones.
   */
  getAgent(name: string, version = 0): Agent {
    const key = formatCategory({ name, version });
    const agent = this.#byCategory.get(key);
    if (!agent) throw new AgentNotFoundError(key, [...this.#byCategory.keys()].sort());
    return agent;
  }

  /** True when a category is served. */
  has(name: string, version = 0): boolean {
    return this.#byCategory.has(formatCategory({ name, version }));
  }

  /**
   * Agents grouped by name with their categories, each category once (an override moves it, so a
   * replaced agent never still advertises it).
   */
  listAgents(): AgentInfo[] {
    const byName = new Map<string, { isSync: boolean; categories: TaskCategory[] }>();
    for (const agent of this.#byCategory.values()) {
      const entry = byName.get(agent.name) ?? { isSync: agent.isSync, categories: [] };
      entry.categories.push(agent.taskCategory);
      byName.set(agent.name, entry);
    }
    return [...byName].map(([name, e]) => ({ name, isSync: e.isSync, categories: e.categories }));
  }

  /** Every registered agent, each once. */
  agents(): Agent[] {
    return [...new Set(this.#byCategory.values())];
  }

  /**
   * A new registry with only the given categories (`"name"` means version 0, or `"name_vN"` /
   * `{name, version}`).
   * @throws AgentNotFoundError when an allowed category is not registered.
   */
  filter(allowed: readonly (string | TaskCategory)[]): AgentRegistry {
    const out = new AgentRegistry();
    for (const item of allowed) {
      const c = typeof item === "string" ? parseCategory(item) : item;
      out.register(this.getAgent(c.name, c.version));
    }
    return out;
  }

  /** Removes every agent (for tests). */
  clear(): void {
    this.#byCategory.clear();
  }
}

const registryKey = Symbol.for("flyte-agent.registry");

/** Parses `"sensor"` (version 0) or `"sensor_v1"` / `"sensor:1"` into a category. */
export function parseCategory(text: string): TaskCategory {
  const m = /^(.+?)(?:_v|:)(\d+)$/.exec(text);
  return m ? { name: m[1]!, version: Number(m[2]) } : { name: text, version: 0 };
}
