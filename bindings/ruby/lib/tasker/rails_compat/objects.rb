# frozen_string_literal: true

module Tasker
  module RailsCompat
    # Hashes as Rails Tasker's ActiveRecord models return them: indifferent access when ActiveSupport is loaded
    # (task.context[:cart_id] and task.context["cart_id"] both work), plain string keys otherwise.
    def self.indifferent(value)
      return value unless value.is_a?(Hash) && defined?(ActiveSupport::HashWithIndifferentAccess)

      ActiveSupport::HashWithIndifferentAccess.new(value)
    end

    # Rails Tasker's Tasker::Task, as far as a handler sees it.
    class Task
      attr_reader :task_id, :name, :namespace, :version, :context, :tags

      def initialize(info)
        @task_id = info.uuid
        @name = info.name
        @namespace = info.namespace
        @version = info.version
        @context = RailsCompat.indifferent(info.context || {})
        @tags = info.tags || []
      end

      alias uuid task_id
      alias task_uuid task_id
    end

    # Rails Tasker's Tasker::WorkflowStep: the running step, or (in a sequence) a finished dependency.
    class Step
      attr_reader :workflow_step_id, :task_id, :name, :inputs, :attempts, :retry_limit, :status
      attr_accessor :results, :backoff_request_seconds, :last_attempted_at

      def initialize(name:, task_id:, inputs:, results:, status:, workflow_step_id: nil, attempts: 0, retry_limit: nil)
        @workflow_step_id = workflow_step_id
        @task_id = task_id
        @name = name
        @inputs = inputs
        @results = results
        @status = status
        @attempts = attempts
        @retry_limit = retry_limit
      end

      # Rails Tasker sets `processed` for a step that finished (complete, or resolved by hand).
      def processed = %w[complete resolved_manually].include?(status)
      alias processed? processed
      def complete? = status == "complete"
      def in_progress? = status == "in_progress"
      alias step_uuid workflow_step_id
    end

    # Rails Tasker's StepSequence: every step of the task. The running step and its direct dependencies (with
    # their results) come with the claim; any other step is looked up by fetching the task from the engine, once,
    # the first time one is asked for (`find_step_by_name` of a grandparent, or `steps`).
    #
    # A step read from the engine has Rails Tasker's status names: a failed attempt awaiting its retry
    # (`waiting_for_retry` here) is `error` there. Like Rails Tasker's, a sequence is for the handler's own thread.
    class Sequence
      # Engine step states that Rails Tasker spells differently; the others are the same words.
      RAILS_STATUS = { "waiting_for_retry" => "error" }.freeze

      def initialize(known, task_id: nil, inputs: nil, loader: nil)
        @known = known
        @task_id = task_id
        @inputs = inputs
        @loader = loader
      end

      def find_step_by_name(name)
        name = name.to_s
        @known.find { |step| step.name == name } || (@loader && steps.find { |step| step.name == name })
      end

      # In the template's order; the claim's steps are the same objects the handler was given.
      def steps
        return @known unless @loader

        @steps ||= @loader.call.steps.map do |info|
          @known.find { |step| step.name == info["name"] } ||
            Step.new(name: info["name"], task_id: @task_id, inputs: @inputs, results: RailsCompat.indifferent(info["result"]),
                     status: RAILS_STATUS.fetch(info["state"], info["state"]), workflow_step_id: info["step_uuid"], attempts: info["attempts"] || 0,
                     retry_limit: info["max_attempts"])
        end
      end
    end
  end
end
