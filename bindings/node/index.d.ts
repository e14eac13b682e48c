// TypeScript declarations for Tasker Native's Node binding.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface StepContext {
  task: { uuid: string; namespace: string; name: string; version: string; context: any; tags: string[] };
  step: { uuid: string; name: string; handler: string; attempt: number; maxAttempts: number; initialization: Record<string, any> };
  /** Results of the steps this one depends on, by step name. */
  dependencyResults: Record<string, any>;
  claimToken: string;
}

export abstract class StepHandler {
  process(ctx: StepContext): Promise<any> | any;
  processResults(output: any): Promise<any> | any;
}

export type Action = 'execute' | 'reenqueue' | 'wait' | 'complete' | 'error' | 'cancelled';

export interface Outcome {
  taskUuid: string;
  taskState: string;
  executionStatus: 'has_ready_steps' | 'processing' | 'waiting_for_retry' | 'blocked_by_failures' | 'all_complete';
  action: Action;
  /** For `reenqueue`: come back after this many seconds. */
  delaySeconds: number | null;
  readySteps: number;
  inProgressSteps: number;
  finalized: boolean;
}

export interface StepView {
  step_uuid: string; name: string; handler: string; state: string; attempts: number; max_attempts: number;
  result: any; error: { message: string; error_type: string | null; permanent: boolean; backtrace?: string[] } | null;
  readiness: { ready: boolean; waiting_on: string[]; retry_at: string | null; attempts_exhausted: boolean };
}

export interface Task {
  uuid: string; task_uuid: string; namespace: string; name: string; version: string; state: string; context: any;
  steps: StepView[]; transitions: any[]; created?: boolean;
  step(name: string): StepView | undefined;
}

export interface EngineOptions {
  databaseUrl?: string;
  schema?: string;
  concurrency?: number;
  workerId?: string;
  maxAttempts?: number;
  backoff?: { base_seconds?: number; max_seconds?: number; jitter?: number };
  leaseSeconds?: number;
  retention?: { max_finished_tasks?: number };
  clock?: 'system' | 'manual';
  [key: string]: any;
}

export class Engine implements Disposable {
  constructor(options?: EngineOptions);
  registerTemplate(source: string | { path: string }): Promise<{ namespace: string; name: string; version: string; steps: string[] }>;
  registerHandler(name: string, handler: (new () => StepHandler) | StepHandler): void;
  createTask(name: string, options: { namespace: string; version?: string; context?: any; initiator?: string;
    sourceSystem?: string; reason?: string; tags?: string[]; priority?: number; idempotencyKey?: string;
    correlationId?: string }): Promise<Task>;
  handle(taskUuid: string): Promise<Outcome>;
  getTask(taskUuid: string): Promise<Task>;
  evaluate(taskUuid: string): Promise<Outcome>;
  listTasks(query?: { state?: string; namespace?: string; name?: string; limit?: number }): Promise<any[]>;
  retryTask(taskUuid: string, options?: { actor?: string; reason?: string }): Promise<Outcome>;
  cancelTask(taskUuid: string, options?: { actor?: string; reason?: string }): Promise<Outcome>;
  resolveStep(taskUuid: string, step: string, result?: any, options?: { actor?: string; reason?: string }): Promise<Outcome>;
  staleWork(options?: { limit?: number }): Promise<any>;
  health(): Promise<any>;
  migrate(): Promise<void>;
  advanceClock(seconds: number): void;
  subscribe(pattern?: string, options?: { capacity?: number; pollMs?: number }): Subscription;
  close(): void;
  [Symbol.dispose](): void;
}

export class Subscription implements AsyncIterable<any>, Disposable {
  dropped: number;
  pull(max?: number): any[];
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<any>;
  [Symbol.dispose](): void;
}

export function version(): string;

export class TaskerError extends Error { readonly code: number; details: Record<string, string>; }
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
export class RetryableError extends Error { constructor(message?: string, options?: { retryAfter?: number }); retryAfter?: number; }
export class PermanentError extends Error {}
