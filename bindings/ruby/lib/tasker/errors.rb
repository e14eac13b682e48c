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
