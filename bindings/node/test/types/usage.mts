// Type-checked by test/types.test.js: the ESM entry (index.d.mts), default and named imports.
import tasker, { Engine, PermanentError, Worker, type Outcome, type WorkerStats } from 'tasker-native';
import { createProcessor } from 'tasker-native/bullmq';

export async function run(queue: { add(name: string, data: { taskUuid: string }, options?: object): Promise<unknown> }) {
  await using engine = await Engine.open({ databaseUrl: 'postgres://localhost/db', schema: 'tasker' });
  const outcome: Outcome = await engine.handle('uuid');
  const again: number | null = outcome.requeueAfterSeconds;
  void again;
  const processor = createProcessor(engine, { queue });
  const same: typeof tasker.Engine = Engine;
  void processor;
  void same;
  if (outcome.finished) throw new PermanentError('done', { cause: outcome });
  return tasker.version();
}

export async function work(engine: Engine): Promise<WorkerStats> {
  return new Worker(engine, { concurrency: 2 }).run();
}
