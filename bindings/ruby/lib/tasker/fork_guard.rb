# frozen_string_literal: true

module Tasker
  # Handles from libtasker belong to the process that opened them: its .NET runtime does not survive fork.
  module ForkGuard
    private

    def check_process!(what)
      return if Process.pid == @pid

      raise Error, "this #{what} was opened in process #{@pid} and cannot be used after fork; " \
                   "open a new engine in each worker process"
    end
  end
end
