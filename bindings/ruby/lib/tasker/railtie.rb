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

    initializer "tasker.executor" do |app|
      Tasker.wrap_handlers_with do |_context, &run|
        result = app.executor.wrap(&run)
        # Belt and braces for apps whose executor has no ActiveRecord hooks (ActiveRecord loaded late).
        ActiveRecord::Base.connection_handler.clear_active_connections! if defined?(ActiveRecord::Base)
        result
      end
    end
  end
end
