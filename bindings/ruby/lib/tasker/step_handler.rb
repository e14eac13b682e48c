# frozen_string_literal: true

module Tasker
  # Subclass and implement `process(context)`; optionally `process_results(output)`.
  # Return any JSON-serializable value. Raise Tasker::RetryableError (optionally `retry_after:`) or
  # Tasker::PermanentError to control retries; any other exception is a retryable failure.
  class StepHandler
    def process(_context)
      raise NotImplementedError, "#{self.class.name}#process"
    end

    def process_results(output)
      output
    end
  end
end
