# frozen_string_literal: true

require "json"

module Tasker
  class Runner
    # How a Runner's finished steps reach the engine: one per call (tasker_step_complete / tasker_step_fail), or the
    # steps of this task that finished together in one call (tasker_steps_report: one crossing and one outcome for
    # a wave). Either way a result the engine refuses becomes the step's InvalidResult failure and a stale claim is
    # dropped. Uses the Runner's @claim_next, @outcome, @failure, `claim` and `call`.
    module Reports
      # Engine answers that refuse a completion's result (too deep, too large, a NUL): the step fails instead.
      REFUSED = [InvalidJsonError::CODE, ValidationError::CODE, InvalidUtf8Error::CODE].freeze

      private

      # Runs the block (a report); an error that is not about the step's own report (the store failed, ...) is kept,
      # the first one, and raised by `run` once the steps in hand are run and reported: none is left claimed. Nothing
      # more is claimed meanwhile. Returns the block's claims, or none.
      def first_error_kept
        yield
      rescue Error => e
        @failure ||= e
        []
      end

      # Sends a report, claiming up to `free` next steps in the same call; returns the new claims. A refused result
      # is reported again as the step's InvalidResult failure; a stale claim (deadline passed, task timed out, step
      # taken over) is dropped, and when it was the last step in hand one more claim records what happened.
      def deliver((function, request, ref), free:, alone:)
        answer = send_report(function, request, free)
      rescue Error => e
        raise unless function == :tasker_step_complete && REFUSED.include?(e.code)

        deliver([:tasker_step_fail, JSON.generate(ref.except(:handler).merge(error: refusal(e.message))), ref], free: free, alone: alone)
      else
        return alone && !@failure ? claim(free) : [] if answer.nil?

        claimed(answer)
      end

      # Reports steps of this task that finished together in one call (tasker_steps_report), claiming up to `free` next
      # steps; returns the new claims. Each report is applied on its own: a refused result becomes that step's
      # InvalidResult failure, a stale claim is dropped. A request refused as a whole (a result nested too deep for
      # it to parse) goes one report at a time.
      def deliver_all(reports, free:, alone:)
        return deliver(reports.first, free: free, alone: alone) if reports.size == 1

        answer = call(:tasker_steps_report, reports_request(reports, free))
      rescue Error => e
        raise unless REFUSED.include?(e.code)

        reports.each_with_index.flat_map do |report, i|
          last = i == reports.size - 1
          first_error_kept { deliver(report, free: last ? free : 0, alone: last && alone) }
        end
      else
        answer["reports"].each_with_index do |refused, i|
          next if refused.nil? || refused["code"] == StaleClaimError::CODE

          function, _request, ref = reports[i]
          unless function == :tasker_step_complete && REFUSED.include?(refused["code"])
            @failure ||= Error.for_code(refused["code"], refused["message"], "{}")
            next
          end
          first_error_kept do
            failed = send_report(:tasker_step_fail, JSON.generate(ref.except(:handler).merge(error: refusal(refused["message"]))), 0)
            answer["outcome"] = failed["outcome"] if failed # the newer outcome
          end
        end
        claimed(answer)
      end

      # A report's answer, lean (claim_next_json): its claims leave out their task's names, which come from @task (their
      # context and tags are their own, as every claim's: a handler may change its copy, no other step sees it); its
      # outcome is null when steps are claimed, and the last one is kept. Returns the claims.
      def claimed(answer)
        @outcome = answer["outcome"] || @outcome
        answer["claims"].each do |claim|
          task = claim["task"]
          task["namespace"], task["name"], task["version"] = @task.values_at("namespace", "name", "version")
        end
      end

      # The reports (each a complete or fail request of this task) in one tasker_steps_report request.
      def reports_request(reports, free)
        request = +%({"task_uuid":#{JSON.generate(@task_uuid)},"reports":[)
        request << reports.map { |report| report[1] }.join(",") << %(],"claim_next":#{claim_next_json(free)})
        request << %(,"traceparent":#{JSON.generate(@traceparent)}) if @traceparent
        request << "}"
      end

      # The failure reported for a step whose result the engine refused (sent without the handler run: if that was
      # what it refused, it would refuse the failure too).
      def refusal(message) = { message: "the engine refused the step's result: #{message}", error_type: "InvalidResult" }

      # Lean: the claims are of this task, whose names the runner holds (@task), and half a step's answer otherwise.
      def claim_next_json(free) = (@claim_next_json[free] ||= JSON.generate(@claim_next.merge(max_steps: free, lean: true)))

      def send_report(function, request, free)
        call(function, request[0...-1] << %(,"claim_next":#{claim_next_json(free)}}))
      rescue StaleClaimError
        nil
      end
    end
  end
end
