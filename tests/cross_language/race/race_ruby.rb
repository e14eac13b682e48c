# frozen_string_literal: true

# The Ruby side of the race: race_worker.yml requires this file.
class RaceStep < Tasker::StepHandler
  def process(_context)
    { "by" => "ruby", "pid" => Process.pid }
  end
end

Tasker::Worker.configure { |engine| engine.register_handler("RaceStep", RaceStep) }
