# frozen_string_literal: true

require "json"

module Tasker
  # What the host should do next. One rule for a queue: when `requeue_after_seconds` is not nil, re-drive the task
  # after that many seconds (0 for "execute", the delay for "reenqueue"); when nil ("wait", or finished), do not.
  # `action` is "execute", "reenqueue" (after `delay_seconds`), "wait", "complete", "error" or "cancelled";
  # `waiting_for_handlers` lists the ready steps waiting for handlers this caller lacks:
  # [{"handler" => "C", "steps" => ["c"]}].
  Outcome = Struct.new(:task_uuid, :task_state, :execution_status, :action, :delay_seconds, :ready_steps,
                       :in_progress_steps, :finalized, :requeue_after_seconds, :waiting_for_handlers,
                       keyword_init: true) do
    # Filled member by member on an allocated Struct, as StepContext.from_claim: a keyword Hash per outcome cost more
    # than the rest of reading it (every `handle` returns one).
    def self.from_json(hash)
      outcome = allocate
      self::KEYS.each { |member, key| outcome[member] = hash[key] }
      outcome
    end

    def finished? = %w[complete error cancelled].include?(action)
  end
  Outcome::KEYS = Outcome.members.to_h { |member| [member, member.to_s.freeze] }.freeze

  # A task with its steps (state, attempts, result, error, readiness) and its audit trail. Read-only.
  #
  # A created task is decoded when first read beyond `uuid` and `created`: a task is usually created only to hand
  # its uuid to a queue (or to `handle`), and decoding the whole answer (every step with its readiness, 3 KB for
  # eight steps) took longer than creating the task.
  class Task
    # The front of tasker_task_create's answer as the core writes it (these fields first, in this order), the uuid
    # next. JSON does not promise an order: an answer that starts otherwise is decoded whole.
    CREATE_PREFIXES = { true => '{"created":true,"task":{"task_uuid":"', false => '{"created":false,"task":{"task_uuid":"' }.freeze
    UUID = /\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}"/

    attr_reader :uuid

    # false when an idempotency key matched an existing task (nil when not from create_task)
    attr_accessor :created

    # `hash`: the task as tasker_task_get answers it. (@api private: `answer` and `uuid`, a create answer not yet
    # decoded and the uuid read from its front.)
    def initialize(hash, created: nil, answer: nil, uuid: nil)
      @raw = hash
      @answer = answer
      @uuid = uuid || hash["task_uuid"]
      @created = created
    end

    # The task of tasker_task_create's answer (a JSON String): `{"created": ..., "task": {"task_uuid": ..., ...}}`.
    def self.from_create_answer(answer)
      CREATE_PREFIXES.each do |created, prefix|
        next unless answer.start_with?(prefix)
        break unless UUID.match?(answer[prefix.size, 37])

        return new(nil, created: created, answer: answer, uuid: answer[prefix.size, 36])
      end
      whole = JSON.parse(answer, max_nesting: false)
      new(whole["task"], created: whole["created"])
    end

    # The engine's JSON for the task (a Hash), as tasker_task_get answers it.
    def raw
      # Read before @raw: it is cleared only after @raw is set, so a thread that finds @raw unset still has the
      # answer. (Two threads reading a fresh task at once may both decode it; either Hash is the same task.)
      answer = @answer
      return @raw if @raw

      @raw = JSON.parse(answer, max_nesting: false)["task"]
      @answer = nil
      @raw
    end

    def namespace = raw["namespace"]
    def name = raw["name"]
    def version = raw["version"]
    def state = raw["state"]
    def context = raw["context"]
    def steps = raw["steps"]
    def transitions = raw["transitions"] || []
    # the ready (claimable, unclaimed) steps by the handler they wait for: [{"handler" => "C", "steps" => ["c"]}]
    def waiting_for_handlers = raw["waiting_for_handlers"] || []

    def step(name) = steps.find { |s| s["name"] == name } || raise(KeyError, "no step #{name}")

    def inspect = "#<Tasker::Task #{@uuid} #{state}>"
  end
end
