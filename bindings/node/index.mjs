// The ESM entry: the same objects as the CommonJS one (import tasker from 'tasker', or named imports).
import tasker from './lib/index.js';

export const {
  Engine, StepHandler, ApiStepHandler, StepContext, Subscription, Task, Step, Outcome, version, ABI_VERSION,
  TaskerError, ValidationError, InvalidHandleError, InvalidUtf8Error, InvalidJsonError, NotFoundError, ConflictError,
  InvalidDagError, InvalidStateError, StaleClaimError, DatabaseError, TimeoutError, InternalError, AbiMismatchError,
  RetryableError, PermanentError,
} = tasker;
export default tasker;
