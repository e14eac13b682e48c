// TypeScript declarations of require('tasker/bull') (classic Bull 4).
import type { Engine, Outcome, Task, CreateTaskOptions } from './index.js';
import type { JobLike, HandledJob } from './bullmq.js';

/** The subset of a Bull 4 Queue the adapter uses. */
export interface BullQueueLike {
  add(data: { taskUuid: string }, options?: Record<string, any>): Promise<unknown>;
}

export function createProcessor(engine: Engine, options: {
  queue: BullQueueLike;
  jobOptions?: Record<string, any>;
  onOutcome?: (outcome: Outcome, job: JobLike) => unknown;
  /** A task that ended in `error` fails the job with WorkflowFailedError, without retries (default true). */
  failOnError?: boolean;
}): (job: JobLike) => Promise<HandledJob>;

export function startWorkflow<Context = any>(engine: Engine, queue: BullQueueLike, name: string,
  options: CreateTaskOptions<Context>, jobs?: { jobOptions?: Record<string, any> }): Promise<Task<Context>>;

export function enqueueStaleWork(engine: Engine, queue: BullQueueLike,
  options?: { limit?: number; jobOptions?: Record<string, any> }): Promise<string[]>;

export function retry(engine: Engine, queue: BullQueueLike, taskUuid: string,
  options?: { actor?: string; reason?: string; jobOptions?: Record<string, any> }): Promise<Outcome>;
