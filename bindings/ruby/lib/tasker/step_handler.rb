# frozen_string_literal: true

module Tasker
  # What `process` receives: the task, the step, the results of the steps it depends on (by step name).
  # `set_attribute` adds attributes to the trace span of this handler run (docs/observability.md).
  StepContext = Struct.new(:task, :step, :dependency_results, :claim_token, :attributes, keyword_init: true) do
    MAX_ATTRIBUTES = 64

    def set_attribute(key, value)
      key = key.to_s
      raise ArgumentError, "attribute names are 1-256 characters" if key.empty? || key.size > 256
      unless [String, Integer, Float, TrueClass, FalseClass].any? { |type| value.is_a?(type) }
        raise TypeError, "attribute #{key.inspect} must be a String, Integer, Float or boolean, not #{value.class}"
      end
      raise ArgumentError, "attribute #{key.inspect} must be a finite number" if value.is_a?(Float) && !value.finite?
      if !attributes.key?(key) && attributes.size >= MAX_ATTRIBUTES
        raise ArgumentError, "at most #{MAX_ATTRIBUTES} attributes per handler run"
      end

      attributes[key] = value
    end

    def self.from_claim(claim)
      t = claim.fetch("task")
      s = claim.fetch("step")
      new(task: TaskInfo.new(uuid: t["task_uuid"], namespace: t["namespace"], name: t["name"], version: t["version"],
                             context: t["context"], tags: t["tags"]),
          step: StepInfo.new(uuid: s["step_uuid"], name: s["name"], handler: s["handler"], attempt: s["attempt"],
                             max_attempts: s["max_attempts"], initialization: s["initialization"] || {}),
          dependency_results: claim["dependency_results"] || {}, claim_token: claim["claim_token"], attributes: {})
    end
  end
  TaskInfo = Struct.new(:uuid, :namespace, :name, :version, :context, :tags, keyword_init: true)
  StepInfo = Struct.new(:uuid, :name, :handler, :attempt, :max_attempts, :initialization, keyword_init: true)

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
