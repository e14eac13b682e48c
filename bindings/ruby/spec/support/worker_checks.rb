# frozen_string_literal: true

# Checks shared by the worker specs.
module WorkerChecks
  # Every task's audit trail: the task's transitions and each step's chain on without a gap (each `from` is the
  # previous `to`), and the task finalized exactly once.
  def expect_contiguous_audit(task)
    task.transitions.group_by { |t| t["step_name"] }.each do |step, chain|
      expect(chain.first["from"]).to be_nil.or(eq("pending")), "#{task.uuid} #{step || "task"} starts at #{chain.first}"
      chain.each_cons(2) do |before, after|
        expect(after["from"]).to eq(before["to"]), "#{task.uuid} #{step || "task"}: #{before} then #{after}"
      end
    end
    finals = task.transitions.count { |t| t["step_name"].nil? && %w[complete error cancelled].include?(t["to"]) }
    expect(finals).to eq(1), "#{task.uuid} finalized #{finals} times"
  end

  # The Echo log as [event, step uuid, attempt, pid] rows.
  def worker_log(path) = File.exist?(path) ? File.readlines(path, chomp: true).map(&:split) : []

  def wait_until(seconds, what)
    finish = Time.now + seconds
    until yield
      raise "timed out after #{seconds} s waiting for #{what}" if Time.now > finish

      sleep 0.05
    end
  end
end
