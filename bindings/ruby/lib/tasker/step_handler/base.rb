# frozen_string_literal: true

module Tasker
  class StepHandler
    # Rails Tasker's step handler base class, so existing handlers run unchanged:
    #
    #   class FetchCart < Tasker::StepHandler::Base
    #     def process(task, sequence, step)
    #       { cart: Cart.find(task.context["cart_id"]).as_json }
    #     end
    #   end
    #
    # Implement `process(task, sequence, step)`; its return value becomes the step's results, unless the handler
    # set `step.results` itself or overrides `process_results(step, process_output, initial_results)`. `config` is
    # the step's handler_config. Never override `handle`: it is the framework's entry point.
    class Base
      def initialize(config: nil)
        @config = config
      end

      def handle(task, sequence, step)
        initial_results = step.results
        process_output = process(task, sequence, step)
        process_results(step, process_output, initial_results)
        process_output
      end

      def process(_task, _sequence, _step)
        raise NotImplementedError, "#{self.class.name} must implement process(task, sequence, step)"
      end

      # The default keeps results the handler set on the step, else stores what process returned.
      def process_results(step, process_output, initial_results)
        return if step.results != initial_results

        step.results = process_output
      end

      protected

      attr_reader :config
    end
  end
end
