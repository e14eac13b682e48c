# frozen_string_literal: true

module Tasker
  # Loaded when Rails is: every handler run happens inside the Rails executor (Rails.application.executor.wrap), as
  # a request or a job does. Code reloading is safe, and ActiveRecord's executor hooks check the handler thread's
  # connections back in when the step ends, so a fan-out of N steps needs at most `concurrency` connections at a
  # time and never strands one on a finished thread. See the README section on ActiveRecord pool sizing.
  class Railtie < ::Rails::Railtie
    config.tasker = ActiveSupport::OrderedOptions.new
    # Where the initializer looks for templates (config/initializers/tasker.rb registers them).
    config.tasker.templates_path = "config/tasker/tasks"

    initializer "tasker.defaults" do
      # Engines opened without `concurrency:` run as many steps at once as the ActiveRecord pool has connections
      # (Engine::DEFAULT_CONCURRENCY without ActiveRecord), and without `environment:` pick templates'
      # `environments:` entry for Rails.env (TASKER_ENV, read by the engine itself, still comes first).
      Tasker::Engine.default_option(:concurrency) { Tasker::Railtie.pool_size }
      Tasker::Engine.default_option(:environment) { Rails.env.to_s unless ENV["TASKER_ENV"] }
    end

    # The ActiveRecord pool's size, or nil without ActiveRecord or a configured database.
    def self.pool_size
      return nil unless defined?(ActiveRecord::Base)

      ActiveRecord::Base.connection_pool.size
    rescue ActiveRecord::ActiveRecordError
      nil
    end

    initializer "tasker.executor" do |app|
      Tasker.wrap_handlers_with do |_context, &run|
        result = app.executor.wrap(&run)
        # Belt and braces for apps whose executor has no ActiveRecord hooks (ActiveRecord loaded late).
        ActiveRecord::Base.connection_handler.clear_active_connections! if defined?(ActiveRecord::Base)
        result
      end
      # `handle` called on a request thread (inside the executor) waits for handler threads that may autoload:
      # let them, as the Rails threading guide says, or in development each waits for the other.
      Railtie.permit_concurrent_loads = Tasker.wrap_waits_with do |&wait|
        ActiveSupport::Dependencies.interlock.permit_concurrent_loads(&wait)
      end
    end

    class << self
      # The wait wrapper the executor initializer adds (Tasker::HandlerWrapper.remove_wait takes it out).
      attr_accessor :permit_concurrent_loads
    end
  end
end
