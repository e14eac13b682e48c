// TypeScript declarations for Tasker Native's Node binding (require('tasker') / import tasker from 'tasker').

declare global {
  /**
   * The AbortSignal of Node (and of the DOM), as much as `StepContext.signal` needs, so that these declarations need
   * neither @types/node nor the DOM library; it merges with their fuller declaration when a program has one.
   */
  interface AbortSignal {
    readonly aborted: boolean;
    readonly reason: any;
    throwIfAborted(): void;
  }
}

/** Any JSON value: what a step may return, and what task contexts hold. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type TaskState = 'pending' | 'in_progress' | 'waiting_for_retry' | 'complete' | 'error' | 'cancelled' | 'resolved_manually';
export type StepState = TaskState;
export type Action = 'execute' | 'reenqueue' | 'wait' | 'complete' | 'error' | 'cancelled';
export type ExecutionStatus = 'has_ready_steps' | 'processing' | 'waiting_for_retry' | 'blocked_by_failures' | 'all_complete';

// ---- handlers --------------------------------------------------------------------------------------------------

/** What a handler's `process` receives. */
export class StepContext<Context = any> {
  private constructor();
  readonly task: { uuid: string; namespace: string; name: string; version: string; context: Context; tags: string[] };
  readonly step: {
    uuid: string; name: string; handler: string;
    /** 1 for the first attempt. */
    attempt: number;
    maxAttempts: number;
    /** `handler.initialization` of the step in the template. */
    initialization: Record<string, any>;
  };
  /** Results of the steps this one depends on, by step name. */
  readonly dependencyResults: Record<string, any>;
  readonly claimToken: string;
  /** RFC 3339 time at which the claim expires unless `heartbeat` extends it (never later than `deadline`). */
  leaseExpiresAt: string;
  /** When this attempt times out (the step's `timeout_seconds` after the claim); null for steps without a timeout. */
  readonly deadline: Date | null;
  /**
   * Aborted at `deadline` (its reason a TimeoutError); pass it to fetch, timers and streams. The engine fails a late
   * attempt as `Timeout` whether or not the handler listens. Never aborts on an engine with `clock: 'manual'`.
   */
  readonly signal: AbortSignal;
  /**
   * Extends the lease (default length: the engine's), never past `deadline`; resolves with the new expiry. Rejects
   * with StaleClaimError when the claim is no longer current (lost lease, deadline passed, task cancelled).
   */
  heartbeat(leaseSeconds?: number): Promise<string>;
  /** Attributes of this run's `tasker.handler` trace span. */
  readonly attributes: Record<string, string | number | boolean>;
  /** Adds a trace span attribute (at most 64 per run). */
  setAttribute(key: string, value: string | number | boolean): void;
}

/**
 * Subclass and implement `process` (usually `async`); optionally `processResults`. Return a JSON value; throw
 * RetryableError / PermanentError to control retries (anything else thrown is a retryable failure).
 */
export abstract class StepHandler<Context = any, Output = any, Result = Output> {
  process(ctx: StepContext<Context>): Promise<Output> | Output;
  /** Transforms `process`'s output before it is stored; the default returns it unchanged. */
  processResults(output: Output): Promise<Result> | Result;
}

/** What ApiStepHandler's connection returns. */
export interface ApiResponse { status: number; headers: { get(name: string): string | null }; body: string; requestLine: string }

/** A connection from the step's handler config (url, params, headers, timeout): requests relative to `url`. */
export interface ApiConnection {
  get(path?: string, params?: Record<string, unknown>, headers?: Record<string, string>): Promise<ApiResponse>;
  delete(path?: string, params?: Record<string, unknown>, headers?: Record<string, string>): Promise<ApiResponse>;
  post(path?: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  put(path?: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  patch(path?: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
}

/**
 * Rails Tasker's Api step handler on fetch: implement `call(ctx, connection)`. A 2xx JSON body is the result;
 * 429/503 retry after Retry-After; other 4xx are permanent; 5xx retryable.
 */
export abstract class ApiStepHandler<Context = any> extends StepHandler<Context, unknown> {
  call(ctx: StepContext<Context>, connection: ApiConnection): Promise<ApiResponse>;
  connection(ctx: StepContext<Context>): ApiConnection;
  process(ctx: StepContext<Context>): Promise<unknown>;
}

/** A handler as `registerHandler` takes it: a StepHandler subclass, an instance, or a plain function. */
export type Handler =
  | (new () => StepHandler)
  | StepHandler
  | ((ctx: StepContext) => unknown);

// ---- answers ---------------------------------------------------------------------------------------------------

/** Ready steps that wait for a handler this engine does not have (another worker's). */
export interface WaitingForHandler {
  handler: string;
  /** Step names. */
  steps: string[];
}

/** What the host should do next with a task. */
export class Outcome {
  private constructor();
  readonly taskUuid: string;
  readonly taskState: TaskState;
  readonly executionStatus: ExecutionStatus;
  readonly action: Action;
  /** With 'reenqueue': handle the task again after this many seconds. Otherwise null. */
  readonly delaySeconds: number | null;
  /**
   * The one field a queue follows: handle the task again after this many seconds (0 for 'execute', the delay for
   * 'reenqueue'), or null: do not ('wait', or finished).
   */
  readonly requeueAfterSeconds: number | null;
  /** Ready steps whose handler is not registered here, by handler; they stay ready for a worker that has it. */
  readonly waitingForHandlers: WaitingForHandler[];
  readonly readySteps: number;
  readonly inProgressSteps: number;
  /** True only in the one call that moved the task to its final state. */
  readonly finalized: boolean;
  /** True for 'complete', 'error' and 'cancelled'. */
  readonly finished: boolean;
}

export interface StepError {
  message: string;
  errorType: string;
  permanent: boolean;
  attempt: number;
  at: string;
  backtrace: string[] | string | null;
}

export class Step {
  private constructor();
  readonly uuid: string;
  readonly name: string;
  readonly handler: string;
  readonly state: StepState;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly retryable: boolean;
  readonly result: any;
  readonly metadata: Record<string, any> | null;
  readonly error: StepError | null;
  readonly nextRetryAt: string | null;
  readonly leaseExpiresAt: string | null;
  readonly dependencies: string[];
  readonly readiness: { ready: boolean; waitingOn: string[]; retryAt: string | null; attemptsExhausted: boolean };
  /** The JSON the library returned (snake_case). */
  readonly raw: Record<string, any>;
}

export interface Transition {
  /** null for the task's own transitions. */
  stepName: string | null;
  from: string | null;
  to: string;
  reason: string | null;
  actor: string | null;
  at: string;
  attempt: number | null;
}

export class Task<Context = any> {
  private constructor();
  readonly uuid: string;
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly state: TaskState;
  readonly context: Context;
  readonly tags: string[];
  readonly priority: number;
  readonly initiator: string | null;
  readonly sourceSystem: string | null;
  readonly reason: string | null;
  readonly correlationId: string | null;
  readonly idempotencyKey: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  readonly steps: Step[];
  /** The ready (claimable, unclaimed) steps by the handler they wait for. */
  readonly waitingForHandlers: WaitingForHandler[];
  readonly transitions: Transition[];
  /** Set by createTask: false when an idempotency key matched an existing task. */
  readonly created?: boolean;
  readonly raw: Record<string, any>;
  /** The step with this name, or undefined. */
  step(name: string): Step | undefined;
}

export interface TaskSummary {
  uuid: string; namespace: string; name: string; version: string; state: TaskState; createdAt: string; updatedAt: string;
}

export interface TemplateInfo {
  namespace: string; name: string; version: string; steps: string[];
  /** The Rails Tasker descriptive keys, present when the template has them (docs/templates.md). */
  description?: string; module_namespace?: string; task_handler_class?: string; concurrent?: boolean;
  default_dependent_system?: string; named_steps?: string[];
  /** The engine environment whose `environments:` overrides were applied. */
  environment?: string;
  has_input_schema: boolean;
  step_details: { name: string; handler: string; description?: string; dependent_system?: string; skippable: boolean; dependencies: string[] }[];
}

export interface StaleWork {
  expiredLeases: { taskUuid: string; stepUuid: string; stepName: string; leaseExpiresAt: string }[];
  retryDue: { taskUuid: string; nextRetryAt: string }[];
  /** Every task above, once. */
  taskUuids: string[];
}

export interface Health {
  healthy: boolean;
  error: string | null;
  store: 'memory' | 'postgres' | string;
  expiredLeases: number;
  retriesDue: number;
  tasks: Record<string, number>;
  steps: Record<string, number>;
  oldestUnfinishedTaskCreatedAt: string | null;
  poolInUse?: number;
  poolSize?: number;
  /** The library's managed heap (docs/observability.md). */
  memory: {
    heapSizeBytes: number;
    committedBytes: number;
    fragmentedBytes: number;
    totalAllocatedBytes: number;
    gcCounts: { gen0: number; gen1: number; gen2: number };
    gcPauseTimePercent: number;
  };
}

/** An event (docs/events.md): fields that do not apply are null or absent. */
export interface TaskerEvent {
  sequence: number;
  name: string;
  timestamp: string;
  taskUuid?: string | null;
  taskName?: string | null;
  namespace?: string | null;
  stepUuid?: string | null;
  stepName?: string | null;
  fromState?: string | null;
  toState?: string | null;
  attempt?: number | null;
  durationMs?: number | null;
  reason?: string | null;
  actor?: string | null;
  error?: Record<string, any> | null;
  data?: Record<string, any> | null;
}

// ---- the engine ------------------------------------------------------------------------------------------------

export interface EngineOptions {
  /** PostgreSQL store; absent: the embedded memory store. */
  databaseUrl?: string;
  schema?: string;
  poolSize?: number;
  migrate?: boolean;
  /** PostgreSQL: a created task's NOTIFY carries it (never its context or request data), for a waiting worker's one-round-trip claim; default true (docs/operations.md). */
  announceTasks?: boolean;
  maxAttempts?: number;
  backoff?: { baseSeconds?: number; maxSeconds?: number; jitter?: number };
  leaseSeconds?: number;
  retention?: { maxFinishedTasks?: number };
  eventBuffer?: number;
  /** 'manual': time moves only with advanceClock (tests). */
  clock?: 'system' | 'manual';
  randomSeed?: number;
  /** Which `environments:` overrides templates get (default: TASKER_ENV, RAILS_ENV or APP_ENV). */
  environment?: string;
  telemetry?: { exporter?: 'otlp' | 'console' };
  /** How long (seconds) a task waits, requeued, when its ready steps need handlers this engine lacks (default 5). */
  missingHandlerRequeueSeconds?: number;
  /** Steps of one task that `handle` runs at once (default 8). */
  concurrency?: number;
  /** Recorded as the actor of this engine's claims (default `node-<pid>`). */
  workerId?: string;
  /** Run calls on the event loop's thread: default true for the memory store (calls never wait on I/O), false for
   * PostgreSQL, where true blocks the loop for each database round trip (scripts, benches). */
  syncCalls?: boolean;
  /** Where each failed step attempt is logged as a warning (default console; false for nowhere). */
  logger?: StepFailureLogger | false | null;
}

export interface CreateTaskOptions<Context = any> {
  namespace: string;
  /** Default: the newest registered version. */
  version?: string;
  context?: Context;
  initiator?: string;
  sourceSystem?: string;
  reason?: string;
  tags?: string[];
  priority?: number;
  idempotencyKey?: string;
  correlationId?: string;
  /** W3C trace context of the creator: the task's spans join that trace, whoever runs its steps. */
  traceparent?: string;
  /** Skippable steps this task should not run (Rails Tasker's bypass_steps). */
  bypassSteps?: string[];
  /** When the host asked for the task (Rails Tasker's requested_at); a Date or an ISO 8601 string. */
  requestedAt?: Date | string;
}

export interface AuditOptions { actor?: string; reason?: string }

export class Engine {
  constructor(options?: EngineOptions);
  /** Opens an engine and waits until it is usable (for PostgreSQL: connected and migrated). */
  static open(options?: EngineOptions): Promise<Engine>;
  /** Resolves when open; rejects with what prevented it (e.g. DatabaseError). */
  ready(): Promise<void>;
  readonly closed: boolean;
  /** Shuts the engine down and its subscriptions; rejects with what failed on the way out. Idempotent. */
  close(): Promise<void>;
  [Symbol.dispose](): void;
  [Symbol.asyncDispose](): Promise<void>;

  registerTemplate(source: string | Uint8Array | { path: string }): Promise<TemplateInfo>;
  registerHandler(name: string, handler: Handler): this;
  registerHandlers(handlers: Record<string, Handler>): this;

  createTask<Context = any>(name: string, options: CreateTaskOptions<Context>): Promise<Task<Context>>;
  getTask(taskUuid: string): Promise<Task>;
  listTasks(query?: { state?: TaskState; namespace?: string; name?: string; limit?: number }): Promise<TaskSummary[]>;
  /**
   * Runs the task's ready steps whose handler is registered (concurrently, up to `concurrency`) until none are left
   * for this engine; follow `requeueAfterSeconds` of the outcome.
   */
  handle(taskUuid: string, options?: { /** W3C trace context: this call's step spans join that trace. */ traceparent?: string }): Promise<Outcome>;
  evaluate(taskUuid: string): Promise<Outcome>;
  retryTask(taskUuid: string, options?: AuditOptions): Promise<Outcome>;
  cancelTask(taskUuid: string, options?: AuditOptions): Promise<Outcome>;
  resolveStep(taskUuid: string, stepName: string, result?: Json, options?: AuditOptions): Promise<Outcome>;
  staleWork(options?: { limit?: number }): Promise<StaleWork>;
  health(): Promise<Health>;
  migrate(): Promise<void>;
  /** Engines opened with clock: 'manual' only. */
  advanceClock(seconds: number): void;
  subscribe(pattern?: string, options?: { capacity?: number; pollInterval?: number }): Subscription;
}

/** Events pulled in batches; `for await` over it (leaving the loop closes it) or `pull()`. */
export class Subscription implements AsyncIterable<TaskerEvent> {
  private constructor();
  /** Events lost to a full buffer since the subscription opened. */
  readonly dropped: number;
  readonly closed: boolean;
  pull(maxEvents?: number): TaskerEvent[];
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<TaskerEvent>;
  [Symbol.dispose](): void;
}

// ---- worker mode ---------------------------------------------------------------------------------------------

/** Anything with info, warn and error methods: console (the default), pino, winston, ... */
export interface WorkerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface WorkerOptions {
  /** Steps run at once (1-10000, default 8). */
  concurrency?: number;
  /** Steps claimed beyond the free slots while steps are short (the handlers' mean run time under 10 ms), held until
   *  a slot frees; handlers still run `concurrency` at a time (0-10000, default `concurrency`; 0: none). */
  prefetch?: number;
  /** Only steps of tasks in these namespaces (default: all). */
  namespaces?: string[];
  /** Handlers to register on the engine first; the worker runs every handler registered when `run` starts. */
  handlers?: Record<string, Handler>;
  /** The claims' lease (default: the engine's leaseSeconds). Running steps are heartbeaten every third of it (at least 1 s
   *  apart, at most half of it), until the lease reaches their deadline. */
  leaseSeconds?: number;
  /** On stop, how long running steps may take to finish (default 25); those still running are then aborted and
   *  reported as a retryable WorkerShutdown failure. */
  graceSeconds?: number;
  /** How long one claim waits for work (more than 0, at most 60; default 2): a stop is noticed between claims. */
  waitSeconds?: number;
  /** Period of the throughput line (default 60; 0: never). */
  statsSeconds?: number;
  /** Recorded as the actor of claims (default: the engine's workerId). */
  workerId?: string;
  /** Where the start-up, throughput and shutdown lines go (default console). */
  logger?: WorkerLogger;
}

/** What a worker did. `steps` = completed + failed. */
export class WorkerStats {
  private constructor();
  readonly steps: number;
  completed: number;
  /** Handler failures (retried or not) and refused results. */
  failed: number;
  /** Steps given up at shutdown, reported as WorkerShutdown. */
  shutdown: number;
  /**
   * Reports refused because the claim was no longer current (deadline passed, lease lost, task ended); and steps
   * claimed ahead, not run: their lease ran out in hand and the engine refused them, taken over by another worker or
   * past their deadline.
   */
  stale: number;
  /**
   * Reports that failed, and steps claimed ahead whose claim could not be confirmed, not run (the step's lease gives
   * it to the next claim).
   */
  unreported: number;
  /** The throughput since the last call: `N steps in S s (R steps/s), F failed in all, K running, Q claimed ahead`. */
  intervalLine(running: number, ahead?: number): string;
  summary(): string;
  toJSON(): { steps: number; completed: number; failed: number; shutdown: number; stale: number; unreported: number };
}

/**
 * Worker mode: runs the ready steps of the engine's registered handlers from every task (PostgreSQL is the queue),
 * `concurrency` at a time, until `stop()` or SIGTERM/SIGINT. Or start one with `npx tasker-worker ./worker.js`.
 */
export class Worker {
  constructor(engine: Engine, options?: WorkerOptions);
  readonly engine: Engine;
  readonly concurrency: number;
  /** The prefetch in effect (the option, or `concurrency` by default). */
  readonly prefetch: number;
  readonly namespaces: string[] | null;
  readonly leaseSeconds: number | null;
  readonly graceSeconds: number;
  readonly waitSeconds: number;
  readonly statsSeconds: number;
  readonly workerId: string;
  /** Steps whose handler runs now. */
  readonly running: number;
  readonly stats: WorkerStats;
  /**
   * Runs until stop() or SIGTERM/SIGINT (unless `handleSignals: false`), shuts down gracefully and resolves with the
   * stats. `burst`: stop as soon as no work is ready and nothing runs. A worker runs once.
   */
  run(options?: { burst?: boolean; handleSignals?: boolean }): Promise<WorkerStats>;
  /** Stops claiming; running steps get graceSeconds (`force`: none). Resolves once the worker is down. */
  stop(options?: { force?: boolean }): Promise<WorkerStats>;
}

/** The error_type of steps a stopping worker gave up ('WorkerShutdown'). */
export const SHUTDOWN_ERROR_TYPE: 'WorkerShutdown';

// ---- errors ----------------------------------------------------------------------------------------------------

/** An error reported by libtasker; `code` is the C error code. */
export class TaskerError extends Error {
  constructor(message: string, details?: Record<string, string>);
  readonly code: number;
  readonly details: Record<string, any>;
}
export class ValidationError extends TaskerError {}
export class InvalidHandleError extends TaskerError {}
export class InvalidUtf8Error extends ValidationError {}
export class InvalidJsonError extends ValidationError {}
export class NotFoundError extends TaskerError {}
export class ConflictError extends TaskerError {}
export class InvalidDagError extends ValidationError {}
export class InvalidStateError extends TaskerError {}
export class StaleClaimError extends TaskerError {}
export class DatabaseError extends TaskerError {}
export class TimeoutError extends TaskerError {}
export class InternalError extends TaskerError {}
export class AbiMismatchError extends TaskerError {}

/** Throw from a handler: a failure worth retrying; `retryAfter` (seconds) overrides the backoff. */
export class RetryableError extends Error {
  constructor(message?: string, options?: { retryAfter?: number; cause?: unknown });
  readonly retryAfter: number | null;
}

/** Throw from a handler: the step fails at once, whatever attempts are left. */
export class PermanentError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
}

/**
 * Thrown by a queue adapter's processor (failOnError, on by default) when the task ended in `error`, so the queue
 * marks the job failed. Not a TaskerError: no C error code.
 */
export class WorkflowFailedError extends Error {
  constructor(message: string, options?: { taskUuid?: string; failedSteps?: FailedStep[] });
  readonly taskUuid: string | undefined;
  readonly failedSteps: FailedStep[];
  static forTask(task: Task): WorkflowFailedError;
}

export interface FailedStep { name: string; errorType: string; message: string }

/** Where an engine logs each failed step attempt (a console, pino, winston, ...). */
export interface StepFailureLogger {
  warn(message: string, fields: { taskUuid: string; step: string; attempt: number; errorType: string }): unknown;
}

/** The loaded libtasker's version (loads the library). */
export function version(): string;
/** The ABI version this binding speaks. */
export const ABI_VERSION: number;
