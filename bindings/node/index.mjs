// The ESM entry: the same objects as the CommonJS one (import tasker from 'tasker', or named imports).
import tasker from './lib/index.js';

export const {
  Engine, StepHandler, ApiStepHandler, StepContext, Subscription, Worker, WorkerStats, SHUTDOWN_ERROR_TYPE, Task, Step,
  Outcome, version, ABI_VERSION,
  TaskerError, ValidationError, InvalidHandleError, InvalidUtf8Error, InvalidJsonError, NotFoundError, ConflictError,
  InvalidDagError, InvalidStateError, StaleClaimError, DatabaseError, TimeoutError, InternalError, AbiMismatchError,
  RetryableError, PermanentError, WorkflowFailedError, ERROR_CLASSES,
} = tasker;
export default tasker;
