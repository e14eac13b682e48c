// Type-checked by test/types.test.js (tsc --noEmit): a typical CommonJS program against index.d.ts.
import tasker = require('tasker-native');
import bullmq = require('tasker-native/bullmq');
import bull = require('tasker-native/bull');

interface Order { order: { id: number; total: number } }

class ValidateOrder extends tasker.StepHandler<Order, { valid: boolean; total: number }> {
  async process(ctx: tasker.StepContext<Order>) {
    if (ctx.step.attempt > 1) await ctx.heartbeat(60);
    const deadline: Date | null = ctx.deadline;
    const signal: AbortSignal = ctx.signal;
    if (deadline !== null && deadline.getTime() < Date.now()) signal.throwIfAborted();
    return { valid: true, total: ctx.task.context.order.total };
  }

  processResults(output: { valid: boolean; total: number }) {
    return output;
  }
}

export async function main(queue: bullmq.QueueLike, bullQueue: bull.BullQueueLike): Promise<number> {
  const engine = new tasker.Engine({ concurrency: 4, backoff: { jitter: 0 }, clock: 'manual', missingHandlerRequeueSeconds: 2 });
  try {
    const template: tasker.TemplateInfo = await engine.registerTemplate({ path: 'order.yaml' });
    engine.registerHandler('ValidateOrder', ValidateOrder)
      .registerHandler('Plain', (ctx) => ctx.step.name)
      .registerHandlers({ Shared: new ValidateOrder() });
    const task = await engine.createTask<Order>(template.name, { namespace: 'fulfillment', context: { order: { id: 1, total: 2 } } });
    const id: number = task.context.order.id;
    const outcome: tasker.Outcome = await engine.handle(task.uuid);
    if (outcome.action === 'reenqueue' && outcome.delaySeconds !== null) engine.advanceClock(outcome.delaySeconds);
    const requeue: number | null = outcome.requeueAfterSeconds;
    const missing: string[] = outcome.waitingForHandlers.flatMap((w: tasker.WaitingForHandler) => [w.handler, ...w.steps]);
    void requeue;
    void missing;
    const step = (await engine.getTask(task.uuid)).step('validate_order');
    const errorType: string | undefined = step?.error?.errorType;
    for await (const event of engine.subscribe('step.*')) {
      const stepName: string | null | undefined = event.stepName;
      if (stepName) break;
    }
    bullmq.createProcessor(engine, { queue, onOutcome: (o) => o.requeueAfterSeconds });
    await bull.startWorkflow(engine, bullQueue, 'order_fulfillment', { namespace: 'fulfillment' });
    try {
      throw new tasker.RetryableError('busy', { retryAfter: 5 });
    } catch (e) {
      if (e instanceof tasker.NotFoundError) return e.code;
    }
    void errorType;
    return id;
  } finally {
    await engine.close();
  }
}

// Misuse the declarations must reject:
// @ts-expect-error createTask needs a namespace
void new tasker.Engine().createTask('x', {});
// @ts-expect-error concurrency is a number
void new tasker.Engine({ concurrency: 'many' });
// @ts-expect-error an object is not a handler
new tasker.Engine().registerHandler('X', { run() {} });
// @ts-expect-error the deadline is read-only
new tasker.Engine().registerHandler('D', (ctx) => { ctx.deadline = null; });
// @ts-expect-error requeueAfterSeconds is a number or null
export const requeue: string = (null as unknown as tasker.Outcome).requeueAfterSeconds;
// @ts-expect-error handle returns a Promise<Outcome>, not an Outcome
export const action: string = new tasker.Engine().handle('u').action;

// Worker mode.
export async function work(engine: tasker.Engine): Promise<number> {
  const worker = new tasker.Worker(engine, { concurrency: 4, prefetch: 0, namespaces: ['fulfillment'], graceSeconds: 10,
    handlers: { ValidateOrder }, logger: { info() {}, warn() {}, error() {} } });
  const stopped: Promise<tasker.WorkerStats> = worker.stop();
  const stats = await worker.run({ burst: true, handleSignals: false });
  const kind: 'WorkerShutdown' = tasker.SHUTDOWN_ERROR_TYPE;
  void kind;
  void stopped;
  return stats.completed + stats.toJSON().steps + worker.running + worker.prefetch;
}
// @ts-expect-error prefetch is a number
void new tasker.Worker(new tasker.Engine(), { prefetch: true });
// @ts-expect-error namespaces is a list
void new tasker.Worker(new tasker.Engine(), { namespaces: 'fulfillment' });
// @ts-expect-error a logger needs warn and error too
void new tasker.Worker(new tasker.Engine(), { logger: { info() {} } });
