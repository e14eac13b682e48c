# frozen_string_literal: true

require "json"

module Tasker
  # A core error reported by libtasker. `code` is the C ABI error code; `details` a Hash of strings.
  class Error < StandardError
    attr_reader :details

    def initialize(message = nil, details = {})
      super(message)
      @details = details
    end

    def code = self.class::CODE
    CODE = 12

    def self.for_code(code, message, details_json)
      details = begin
        JSON.parse(details_json)
      rescue JSON::ParserError
        {}
      end
      (CODES[code] || Error).new(message, details)
    end
  end

  # The error table: one class per tasker_error_code_t of include/tasker.h, the same names in every binding
  # (InvalidArgumentError is ValidationError's other name). Error::CODES maps each code to its class.
  class ValidationError < Error; CODE = 1; end
  InvalidArgumentError = ValidationError
  class InvalidHandleError < Error; CODE = 2; end
  class InvalidUtf8Error < ValidationError; CODE = 3; end
  class InvalidJsonError < ValidationError; CODE = 4; end
  class NotFoundError < Error; CODE = 5; end
  class ConflictError < Error; CODE = 6; end
  class InvalidDagError < ValidationError; CODE = 7; end
  class InvalidStateError < Error; CODE = 8; end
  class StaleClaimError < Error; CODE = 9; end
  class DatabaseError < Error; CODE = 10; end
  class TimeoutError < Error; CODE = 11; end
  class InternalError < Error; CODE = 12; end
  class AbiMismatchError < Error; CODE = 13; end

  Error::CODES = [ValidationError, InvalidHandleError, InvalidUtf8Error, InvalidJsonError, NotFoundError,
                  ConflictError, InvalidDagError, InvalidStateError, StaleClaimError, DatabaseError, TimeoutError,
                  InternalError, AbiMismatchError].to_h { |klass| [klass::CODE, klass] }.freeze

  # Raised by a queue adapter's job (Tasker::Sidekiq::HandleTaskJob, with `fail_on_error`, on by default) when the
  # task it drove ended in "error", so the queue's own tools (Sidekiq Web's Dead tab, error trackers) show the job
  # failed. Not a core error: it has no C ABI code and the engine never raises it. `failed_steps` is an Array of
  # [step name, error type, message]; the message names them, each message shortened to one line.
  class WorkflowFailedError < StandardError
    # How much of each failed step's message the error's message carries (the whole one is on the step).
    MESSAGE_CHARS = 200
    # How many failed steps the message names (the rest are counted).
    STEPS_NAMED = 5

    attr_reader :task_uuid, :failed_steps

    def initialize(message = nil, task_uuid: nil, failed_steps: [])
      super(message)
      @task_uuid = task_uuid
      @failed_steps = failed_steps
    end

    # The error for a Tasker::Task that ended in "error": its failed steps, in step order.
    def self.for_task(task)
      failed = task.steps.select { |step| step["state"] == "error" }.map do |step|
        error = step["error"] || {}
        [step["name"], (error["error_type"] || "Error").to_s, error["message"].to_s]
      end
      described = failed.first(STEPS_NAMED).map do |name, type, text|
        text.empty? ? "#{name}: #{type}" : "#{name}: #{type}: #{shorten(text)}"
      end
      described << "and #{failed.size - STEPS_NAMED} more failed step(s)" if failed.size > STEPS_NAMED
      steps = described.empty? ? "no step failed (the task timed out or was failed as a whole)" : described.join("; ")
      new("task #{task.uuid} (#{task.namespace}/#{task.name}) ended in error: #{steps}",
          task_uuid: task.uuid, failed_steps: failed)
    end

    # One line of at most MESSAGE_CHARS characters: what logs and queue messages show of an error.
    def self.shorten(text)
      line = text.to_s.split.join(" ")
      line.length <= MESSAGE_CHARS ? line : "#{line[0, MESSAGE_CHARS - 1]}…"
    end
  end

  # Raise from a handler for a failure worth retrying; `retry_after:` (seconds) overrides the backoff.
  # `context:` is accepted as Rails Tasker's RetryableError takes it (kept, not reported).
  class RetryableError < StandardError
    attr_reader :retry_after, :context

    def initialize(message = nil, retry_after: nil, context: {})
      super(message)
      @retry_after = retry_after
      @context = context
    end
  end

  # Raise from a handler when retrying cannot help: the step fails at once. `error_code:` and `context:` as in
  # Rails Tasker's PermanentError.
  class PermanentError < StandardError
    attr_reader :error_code, :context

    def initialize(message = nil, error_code: nil, context: {})
      super(message)
      @error_code = error_code
      @context = context
    end
  end
end
