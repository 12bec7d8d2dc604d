/** A rule FlytePropeller applies that the agent's answer runs into (see `flyte-agent run --strict`). */
export interface ContractWarning {
  /** A stable name, e.g. `running-message-dropped`. */
  readonly rule: string;
  /** What happened and what FlytePropeller does with it. */
  readonly message: string;
}

/** A log link as the console would show it. */
export interface ExecutionLogLink {
  readonly name: string;
  readonly uri: string;
}

interface Base {
  /** Milliseconds since the execution started. */
  readonly elapsedMs: number;
}

/**
 * What the executor reports while it runs; it never prints. Every event is a plain JSON-safe object
 * (the CLI's `--json` mode writes them as they are).
 */
export type ExecutionEvent =
  | (Base & {
      readonly type: "started";
      readonly executionId: string;
      readonly task: string;
      readonly taskType: string;
      readonly taskTypeVersion: number;
      readonly endpoint: string;
      readonly deployment: string;
      readonly sync: boolean;
      /** How the deployment was chosen. */
      readonly via: string;
    })
  | (Base & { readonly type: "attempt"; readonly attempt: number; readonly outputPrefix: string })
  | (Base & { readonly type: "created"; readonly attempt: number; readonly resourceMetaBytes: number })
  | (Base & {
      readonly type: "phase";
      readonly attempt: number;
      readonly phase: string;
      /** The reason FlytePropeller records (dropped for RUNNING). */
      readonly message: string;
      readonly logLinks: readonly ExecutionLogLink[];
      readonly customInfo: Record<string, unknown> | undefined;
    })
  | (Base & {
      readonly type: "info";
      readonly attempt: number;
      readonly logLinks: readonly ExecutionLogLink[];
      readonly customInfo: Record<string, unknown> | undefined;
      /** Always false: Propeller records no event while the phase stays the same. */
      readonly visibleOnCluster: false;
    })
  | (Base & {
      readonly type: "get-error";
      readonly attempt: number;
      /** gRPC status name. */
      readonly code: string;
      readonly message: string;
      /** GetTask failures so far (never reset, as in FlytePropeller). */
      readonly failures: number;
      /** Failures after which polling stops. */
      readonly budget: number;
      readonly retryInMs: number;
    })
  | (Base & {
      readonly type: "attempt-failed";
      readonly attempt: number;
      readonly phase: string;
      readonly code: string;
      readonly message: string;
      readonly retryable: boolean;
      readonly willRetry: boolean;
    })
  | (Base & {
      readonly type: "delete";
      readonly attempt: number;
      readonly reason: "interrupted" | "timeout";
      readonly ok: boolean;
      readonly error?: string;
    })
  | (Base & { readonly type: "warning"; readonly rule: string; readonly message: string });
