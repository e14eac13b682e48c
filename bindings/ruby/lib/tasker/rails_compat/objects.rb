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

      def processed = status == "complete"
      alias processed? processed
      def complete? = status == "complete"
      def in_progress? = status == "in_progress"
      alias step_uuid workflow_step_id
    end

    # Rails Tasker's StepSequence: the steps a handler can look at, i.e. its dependencies (with their results)
    # and itself. Steps that are not dependencies are not part of what a handler receives here.
    class Sequence
      attr_reader :steps

      def initialize(steps) = @steps = steps

      def find_step_by_name(name) = steps.find { |step| step.name == name.to_s }
    end
  end
end
