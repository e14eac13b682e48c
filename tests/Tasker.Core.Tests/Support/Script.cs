using System.Text.Json;

namespace Tasker.Core.Tests.Support;

/// <summary>What a scripted handler does on one attempt.</summary>
public abstract record Behaviour
{
    public static Behaviour Return(string json) => new ReturnValue(json);
    public static Behaviour Retryable(string message = "boom", double? retryAfter = null) => new Fail(message, false, retryAfter);
    public static Behaviour Fatal(string message = "fatal") => new Fail(message, true, null);

    public sealed record ReturnValue(string Json) : Behaviour;
    public sealed record Fail(string Message, bool Permanent, double? RetryAfter) : Behaviour;
}

/// <summary>
/// Drives a task the way a host would: claim ready steps, run scripted handlers, report, follow the outcome, and
/// advance the manual clock when told to come back later. Records every outcome and re-enqueue delay.
/// </summary>
public sealed class Runner(TaskerEngine engine, ManualClock clock)
{
    private readonly Dictionary<string, Behaviour[]> _scripts = [];

    public List<double> ReenqueueDelays { get; } = [];
    public List<string> Executed { get; } = [];

    /// <summary>Scripts a step: one behaviour per attempt; the last one repeats. Unscripted steps return {"ok": true}.</summary>
    public Runner On(string step, params Behaviour[] attempts)
    {
        _scripts[step] = attempts;
        return this;
    }

    public async Task<TaskOutcome> RunAsync(Guid task, int maxRounds = 1000)
    {
        var outcome = await engine.EvaluateAsync(task);
        for (var round = 0; round < maxRounds; round++)
        {
            switch (outcome.Action)
            {
                case RecommendedAction.Execute:
                    var claim = await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 100));
                    outcome = claim.Outcome;
                    foreach (var step in claim.Claims)
                        outcome = await RunStepAsync(step);
                    break;
                case RecommendedAction.Reenqueue:
                    ReenqueueDelays.Add(outcome.DelaySeconds!.Value);
                    clock.Advance(TimeSpan.FromSeconds(outcome.DelaySeconds!.Value));
                    outcome = await engine.EvaluateAsync(task);
                    break;
                default:
                    return outcome;
            }
        }
        throw new InvalidOperationException("task did not settle");
    }

    private async Task<TaskOutcome> RunStepAsync(StepClaim step)
    {
        Executed.Add(step.StepName);
        var behaviour = _scripts.TryGetValue(step.StepName, out var script)
            ? script[Math.Min(step.Attempt - 1, script.Length - 1)]
            : Behaviour.Return("{\"ok\": true}");
        return behaviour switch
        {
            Behaviour.ReturnValue r => await engine.CompleteStepAsync(step.TaskUuid, step.StepUuid, step.ClaimToken, JsonValues.Parse(r.Json, "result")),
            Behaviour.Fail f => await engine.FailStepAsync(step.TaskUuid, step.StepUuid, step.ClaimToken,
                new StepFailure(f.Message, "TestError", f.Permanent, f.RetryAfter)),
            _ => throw new InvalidOperationException(),
        };
    }
}
