// TypeScript declarations of require('tasker/bullmq').
import type { Engine, Outcome, Task, CreateTaskOptions } from './index.js';

/** The subset of a BullMQ Queue the adapter uses. */
export interface QueueLike {
  add(name: string, data: { taskUuid: string }, options?: Record<string, any>): Promise<unknown>;
}

/** The subset of a BullMQ Job the processor reads. */
export interface JobLike {
  id?: string;
  data: { taskUuid: string };
  /** Bull 4 and BullMQ 5: called before a workflow-failed error, so the job is not retried. */
  discard?(): void;
}

export interface HandledJob {
  taskUuid: string;
  action: Outcome['action'];
  taskState: Outcome['taskState'];
  delaySeconds: number | null;
  requeueAfterSeconds: number | null;
}

export const JOB_NAME: 'tasker.handle';

/** A BullMQ processor: handles job.data.taskUuid and re-adds the job after `requeueAfterSeconds` unless it is null. */
export function createProcessor(engine: Engine, options: {
  queue: QueueLike;
  jobName?: string;
  /** Options of every re-added job (delay is set by the adapter). */
  jobOptions?: Record<string, any>;
  onOutcome?: (outcome: Outcome, job: JobLike) => unknown;
  /** A task that ended in `error` fails the job with WorkflowFailedError, without retries (default true). */
  failOnError?: boolean;
}): (job: JobLike) => Promise<HandledJob>;

/** Creates a task and adds its first job; resolves with the task. */
export function startWorkflow<Context = any>(engine: Engine, queue: QueueLike, name: string,
  options: CreateTaskOptions<Context>, jobs?: { jobName?: string; jobOptions?: Record<string, any> }): Promise<Task<Context>>;

/** Adds a job for every task nobody is driving; resolves with their uuids. */
export function enqueueStaleWork(engine: Engine, queue: QueueLike,
  options?: { limit?: number; jobName?: string; jobOptions?: Record<string, any> }): Promise<string[]>;

/** An operator's retry (engine.retryTask) that also adds the task's job when the outcome says so. */
export function retry(engine: Engine, queue: QueueLike, taskUuid: string,
  options?: { actor?: string; reason?: string; jobName?: string; jobOptions?: Record<string, any> }): Promise<Outcome>;
