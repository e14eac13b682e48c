# frozen_string_literal: true

require "time"

module Tasker
  # What `process` receives: the task, the step, the results of the steps it depends on (by step name), and the
  # attempt's `deadline` (a Time, from the step's `timeout_seconds`; nil without one). `set_attribute` adds
  # attributes to the trace span of this handler run (docs/observability.md); `heartbeat` extends the claim's
  # lease (never past the deadline); `cancelled?` says the attempt is past its deadline or no longer ours. Ruby
  # cannot stop a thread safely, so a long handler should check `cancelled?`: the core refuses a late report and
  # records the attempt as a retryable Timeout whatever the handler does.
  StepContext = Struct.new(:task, :step, :dependency_results, :claim_token, :attributes, :deadline, keyword_init: true) do
    MAX_ATTRIBUTES = 64

    def set_attribute(key, value)
      key = key.to_s
      raise ArgumentError, "attribute names are 1-256 characters" if key.empty? || key.size > 256
      unless [String, Integer, Float, TrueClass, FalseClass].any? { |type| value.is_a?(type) }
        raise TypeError, "attribute #{key.inspect} must be a String, Integer, Float or boolean, not #{value.class}"
      end
      raise ArgumentError, "attribute #{key.inspect} must be a finite number" if value.is_a?(Float) && !value.finite?
      [key, value].each do |text|
        raise ArgumentError, "attribute #{key.inspect} must be UTF-8 text" if text.is_a?(String) && !StepContext.utf8?(text)
      end
      if !attributes.key?(key) && attributes.size >= MAX_ATTRIBUTES
        raise ArgumentError, "at most #{MAX_ATTRIBUTES} attributes per handler run"
      end

      attributes[key] = value
    end

    # Extends this attempt's lease by `lease_seconds` (the engine's default lease when nil), never past `deadline`;
    # returns the new expiry (a Time). Raises Tasker::StaleClaimError when the claim is no longer current (the
    # deadline passed, the task timed out or was cancelled, another worker took the step over).
    def heartbeat(lease_seconds = nil)
      raise InvalidStateError, "this context was not made from a claim: there is nothing to heartbeat" unless @heartbeat

      @heartbeat.call(lease_seconds)
    rescue StaleClaimError
      @stale = true
      raise
    end

    # True once the attempt's deadline has passed or a heartbeat found the claim stale: stop and return (or
    # raise); the report will be refused anyway. (On an engine with a manual clock, whose time is not the wall
    # clock's, only a stale heartbeat counts.)
    def cancelled? = @stale == true || (@wall_clock && !deadline.nil? && Time.now >= deadline)

    # The whole task as the engine has it now (a Tasker::Task from Engine#get_task: every step's state and result),
    # fetched on the first call and kept for this attempt. The claim carries only the direct dependencies' results
    # (`dependency_results`); this is for the rarer handler that reads a step further up. Raises
    # InvalidStateError when the context was not made by an engine's runner.
    # For the handler's own thread, as the rest of the context.
    def fetch_task
      raise InvalidStateError, "this context was not made from a claim: there is no engine to ask" unless @task_loader

      @fetched_task ||= @task_loader.call
    end

    # True when fetch_task can ask an engine (the context came from a claim).
    def task_fetchable? = !@task_loader.nil?

    # Whether the text can go to the engine: valid UTF-8 once in UTF-8 (the report is JSON).
    def self.utf8?(text)
      text.encode(Encoding::UTF_8).valid_encoding?
    rescue EncodingError
      false
    end

    # `heartbeat`: called with lease_seconds, returns the new lease expiry; set by the runner that owns the claim.
    # `wall_clock`: false when the engine's clock is manual. `task_loader`: returns the claim's task (fetch_task).
    def self.from_claim(claim, heartbeat: nil, wall_clock: true, task_loader: nil)
      t = claim.fetch("task")
      s = claim.fetch("step")
      deadline = claim["deadline_at"]
      # Filled member by member on an allocated (all-nil) Struct: a keyword_init Struct's `new` builds a keyword
      # Hash per object, three times what the setters cost, and a claim makes three of them per step.
      task = TaskInfo.allocate
      task.uuid = t["task_uuid"]
      task.namespace = t["namespace"]
      task.name = t["name"]
      task.version = t["version"]
      task.context = t["context"]
      task.tags = t["tags"]
      step = StepInfo.allocate
      step.uuid = s["step_uuid"]
      step.name = s["name"]
      step.handler = s["handler"]
      step.attempt = s["attempt"]
      step.max_attempts = s["max_attempts"]
      step.initialization = s["initialization"] || {}
      context = allocate
      context.task = task
      context.step = step
      context.dependency_results = claim["dependency_results"] || {}
      context.claim_token = claim["claim_token"]
      context.attributes = {}
      context.deadline = deadline && Time.iso8601(deadline)
      context.instance_variable_set(:@heartbeat, heartbeat)
      context.instance_variable_set(:@wall_clock, wall_clock)
      context.instance_variable_set(:@task_loader, task_loader)
      context
    end
  end
  TaskInfo = Struct.new(:uuid, :namespace, :name, :version, :context, :tags, keyword_init: true)
  StepInfo = Struct.new(:uuid, :name, :handler, :attempt, :max_attempts, :initialization, keyword_init: true)
end
