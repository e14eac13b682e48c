# frozen_string_literal: true

require "logger"

module Tasker
  class << self
    # Where Tasker::Worker writes its start-up, throughput and shutdown lines, and every engine its failed step
    # attempts (warnings; Tasker.log_step_failures = false turns those off): the Logger given with
    # `Tasker.logger = ...`, else Rails.logger when Rails is loaded, else a Logger on $stdout.
    def logger
      @logger || rails_logger || (@stdout_logger ||= Logger.new($stdout, progname: "tasker"))
    end

    attr_writer :logger

    private

    # Looked up on every call: Rails may be loaded after tasker (Bundler.require order), and its logger set later.
    def rails_logger
      ::Rails.logger if defined?(::Rails) && ::Rails.respond_to?(:logger)
    end
  end
end
