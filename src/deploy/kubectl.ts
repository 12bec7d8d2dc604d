import { execa, type ResultPromise } from "execa";
import { DeployError } from "./errors.js";

/** Options of {@link Kubectl}. */
export interface KubectlOptions {
  /** kubeconfig context. @default the current context */
  readonly context?: string;
  /** Namespace of every call. @default "flyte" */
  readonly namespace?: string;
  /** The executable, looked up on PATH. @default "kubectl" */
  readonly bin?: string;
  /** Environment of the child (PATH is looked up in it). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

const unreachable =
  /Unable to connect to the server|connection refused|no such host|i\/o timeout|context deadline exceeded|the server could not find the requested resource \(get namespaces\)/i;

/** A thin wrapper over the `kubectl` executable: every cluster call of `deploy` goes through it. */
export class Kubectl {
  readonly bin: string;
  readonly namespace: string;
  readonly #global: string[];
  readonly #env: NodeJS.ProcessEnv;

  constructor(options: KubectlOptions = {}) {
    this.bin = options.bin ?? "kubectl";
    this.namespace = options.namespace ?? "flyte";
    this.#global = [
      ...(options.context ? ["--context", options.context] : []),
      "--namespace",
      this.namespace,
    ];
    this.#env = options.env ?? process.env;
  }

  /** The command line a person would type for `args` (used in undo hints). */
  describe(args: readonly string[]): string {
    return [this.bin, ...this.#global, ...args].map(shellQuote).join(" ");
  }

  /**
   * Runs `kubectl <global flags> <args>` and resolves to its stdout.
   * @throws DeployError with one sentence: kubectl missing, cluster unreachable, or the command's error.
   */
  async run(args: readonly string[], input?: string): Promise<string> {
    const r = await execa(this.bin, [...this.#global, ...args], {
      reject: false,
      env: this.#env,
      extendEnv: false,
      ...(input !== undefined ? { input } : { stdin: "ignore" }),
    });
    if ((r as { code?: string }).code === "ENOENT") {
      throw new DeployError(
        `${this.bin} was not found on PATH; install kubectl (https://kubernetes.io/docs/tasks/tools/) or run without --apply to print the manifests`,
      );
    }
    if (r.exitCode !== 0) {
      const first = String(r.stderr).trim().split("\n")[0] || `exit code ${String(r.exitCode)}`;
      if (unreachable.test(String(r.stderr))) {
        throw new DeployError(
          `the Kubernetes cluster is unreachable (${first}); check --context and your kubeconfig`,
        );
      }
      throw new DeployError(`${this.describe(args)} failed: ${first}`);
    }
    return String(r.stdout);
  }

  /** `kubectl apply -f -` with `yaml` on stdin. */
  apply(yaml: string): Promise<string> {
    return this.run(["apply", "-f", "-"], yaml);
  }

  /** The YAML of a ConfigMap, possibly in another namespace. */
  getConfigMap(name: string, namespace?: string): Promise<string> {
    const ns = namespace && namespace !== this.namespace ? ["--namespace", namespace] : [];
    return this.run(["get", "configmap", name, ...ns, "-o", "yaml"]);
  }

  /** The image of a Deployment's container. */
  async getImage(deployment: string, container: string): Promise<string> {
    const out = await this.run([
      "get",
      `deployment/${deployment}`,
      "-o",
      `jsonpath={.spec.template.spec.containers[?(@.name=="${container}")].image}`,
    ]);
    const image = out.trim();
    if (!image) throw new DeployError(`deployment/${deployment} has no container named ${container}`);
    return image;
  }

  /**
   * Forwards a local port to a Service and resolves once kubectl reports the local address.
   * @throws DeployError when kubectl exits or says nothing within `timeoutMs`.
   */
  async portForward(
    service: string,
    port: number,
    timeoutMs = 30_000,
  ): Promise<{ address: string; close(): Promise<void> }> {
    const child: ResultPromise = execa(
      this.bin,
      [...this.#global, "port-forward", `service/${service}`, `:${port}`],
      {
        reject: false,
        env: this.#env,
        extendEnv: false,
        stdin: "ignore",
      },
    );
    const close = async () => {
      child.kill();
      await child;
    };
    const address = await new Promise<string>((resolve, reject) => {
      let seen = "";
      const timer = setTimeout(
        () =>
          reject(
            new DeployError(
              `kubectl port-forward to service/${service} did not start within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const m = /Forwarding from (127\.0\.0\.1|\[::1\]):(\d+)/.exec(seen);
        if (m) {
          clearTimeout(timer);
          resolve(`${m[1]}:${m[2]}`);
        }
      });
      void child.then((r) => {
        clearTimeout(timer);
        const why = String(r.stderr).trim().split("\n")[0] || `exit code ${String(r.exitCode)}`;
        reject(new DeployError(`kubectl port-forward to service/${service} stopped: ${why}`));
      });
    }).catch(async (err: unknown) => {
      await close();
      throw err;
    });
    return { address, close };
  }
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
