# frozen_string_literal: true

module Tasker
  # What the host should do next. One rule for a queue: when `requeue_after_seconds` is not nil, re-drive the task
  # after that many seconds (0 for "execute", the delay for "reenqueue"); when nil ("wait", or finished), do not.
  # `action` is "execute", "reenqueue" (after `delay_seconds`), "wait", "complete", "error" or "cancelled";
  # `waiting_for_handlers` lists the ready steps waiting for handlers this caller lacks:
  # [{"handler" => "C", "steps" => ["c"]}].
  Outcome = Struct.new(:task_uuid, :task_state, :execution_status, :action, :delay_seconds, :ready_steps,
                       :in_progress_steps, :finalized, :requeue_after_seconds, :waiting_for_handlers,
                       keyword_init: true) do
    def self.from_json(hash)
      new(**hash.slice(*members.map(&:to_s)).transform_keys(&:to_sym))
    end

    def finished? = %w[complete error cancelled].include?(action)
  end

  # A task with its steps (state, attempts, result, error, readiness) and its audit trail.
  class Task
    attr_reader :uuid, :namespace, :name, :version, :state, :context, :steps, :transitions, :raw,
                # the ready (claimable, unclaimed) steps by the handler they wait for: [{"handler" => "C", "steps" => ["c"]}]
                :waiting_for_handlers

    # false when an idempotency key matched an existing task (nil when not from create_task)
    attr_accessor :created

    def initialize(hash)
      @raw = hash
      @uuid = hash["task_uuid"]
      @namespace = hash["namespace"]
      @name = hash["name"]
      @version = hash["version"]
      @state = hash["state"]
      @context = hash["context"]
      @steps = hash["steps"]
      @transitions = hash["transitions"] || []
      @waiting_for_handlers = hash["waiting_for_handlers"] || []
    end

    def step(name) = steps.find { |s| s["name"] == name } || raise(KeyError, "no step #{name}")
  end
end
