# frozen_string_literal: true

module Tasker
  module RailsCompat
    # A Tasker::StepHandler that runs one Rails Tasker handler class: a new instance per step attempt, built with
    # `config:` from the step's handler_config (as Rails Tasker does), called through its framework `handle`.
    # The step's results (what process returned, or what the handler set on step.results) are the step result.
    class HandlerAdapter < Tasker::StepHandler
      attr_reader :handler_class

      def initialize(handler)
        super()
        @handler_class = handler.is_a?(Class) ? handler : handler.class
        @instance = handler.is_a?(Class) ? nil : handler
      end

      def process(context)
        task = Task.new(context.task)
        step = Step.new(workflow_step_id: context.step.uuid, task_id: task.task_id, name: context.step.name,
                        inputs: task.context, results: RailsCompat.indifferent({}), status: "in_progress",
                        attempts: context.step.attempt, retry_limit: context.step.max_attempts)
        dependencies = context.dependency_results.map do |name, results|
          Step.new(name: name, task_id: task.task_id, inputs: task.context, results: RailsCompat.indifferent(results),
                   status: "complete")
        end
        handler = @instance || build(context.step.initialization)
        handler.handle(task, Sequence.new([*dependencies, step], task_id: task.task_id, inputs: task.context,
                                                                  loader: loader_for(context)), step)
        step.results
      rescue NotImplementedError => e
        # A ScriptError, not a StandardError: a handler missing its process method fails the step permanently
        # instead of escaping the engine's step loop.
        raise PermanentError, e.message
      end

      private

      # A context made by hand (a handler's unit test) has no engine behind it: its sequence is what it was given.
      def loader_for(context)
        context.task_fetchable? ? -> { context.fetch_task } : nil
      end

      def build(config)
        config = RailsCompat.indifferent(config || {})
        config = handler_class.build_config(config) if handler_class.respond_to?(:build_config)
        accepts_config?(handler_class) ? handler_class.new(config: config) : handler_class.new
      end

      def accepts_config?(klass)
        klass.instance_method(:initialize).parameters.any? { |kind, name| %i[key keyreq].include?(kind) && name == :config || kind == :keyrest }
      end
    end
  end
end
