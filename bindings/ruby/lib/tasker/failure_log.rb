# frozen_string_literal: true

module Tasker
  class << self
    # Whether each failed step attempt is logged as a warning on Tasker.logger (Rails.logger under Rails). On by
    # default; `Tasker.log_step_failures = false` turns it off (or raise the logger's level).
    attr_writer :log_step_failures

    def log_step_failures? = @log_step_failures != false
  end

  # Step failures through the host's logger: one warning per failed attempt with the task uuid, the step name, the
  # attempt, the error class and its shortened message; never the task's context or a step's result.
  module FailureLog
    # `claim`: the claim the step ran under (its task and step fields); `error`: the exception the handler raised.
    def self.step_failed(claim, error)
      return unless Tasker.log_step_failures?

      task = claim["task"]
      step = claim["step"]
      message = WorkflowFailedError.shorten(error.message.to_s.empty? ? error.class.to_s : error.message)
      Tasker.logger.warn("tasker") do
        "step #{step['name']} of task #{task['task_uuid']} (#{task['namespace']}/#{task['name']}) failed, " \
          "attempt #{step['attempt']} of #{step['max_attempts']}: #{error.class}: #{message}"
      end
    rescue StandardError
      nil # a broken logger must not lose the step's report
    end
  end
end
