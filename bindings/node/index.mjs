// ESM entry: re-exports the CommonJS implementation.
import tasker from './lib/index.js';

export const { Engine, StepHandler, Subscription, version, TaskerError, ValidationError, InvalidHandleError,
  InvalidUtf8Error, InvalidJsonError, NotFoundError, ConflictError, InvalidDagError, InvalidStateError,
  StaleClaimError, DatabaseError, TimeoutError, InternalError, AbiMismatchError, RetryableError, PermanentError } = tasker;
export default tasker;
