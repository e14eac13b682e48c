using System.CommandLine;
using System.Text.Json;
using Tasker.Cli.Output;
using Tasker.Core;

namespace Tasker.Cli.Commands;

/// <summary>
/// <c>tasker retry</c>, <c>cancel</c> and <c>resolve</c>: the operator's recovery actions. Each records who (--actor,
/// default the OS user) and why (--reason) in the task's audit trail, and prints what the host should do next.
/// </summary>
internal static class ActionCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        yield return Simple(cli, "retry", "Retry a failed task: failed steps start over, completed ones keep their results",
            (engine, task, actor, reason, token) => engine.RetryTaskAsync(task, actor, reason, token));
        yield return Simple(cli, "cancel", "Cancel a task and its unfinished steps",
            (engine, task, actor, reason, token) => engine.CancelTaskAsync(task, actor, reason, token));
        yield return Resolve(cli);
    }

    private static (Option<string?> Actor, Option<string?> Reason) AuditOptions() =>
        (new Option<string?>("--actor") { Description = "Who is acting, for the audit trail (default: the OS user)" },
         new Option<string?>("--reason") { Description = "Why, for the audit trail" });

    private static Command Simple(CliContext cli, string name, string description,
        Func<TaskerEngine, Guid, string, string?, CancellationToken, ValueTask<TaskOutcome>> act)
    {
        var task = new Argument<string>("task") { Description = "The task uuid" };
        var (actor, reason) = AuditOptions();
        var command = new Command(name, description) { task, actor, reason };
        cli.Handle(command, async (parse, token) =>
        {
            var uuid = CliContext.TaskUuid(parse.GetValue(task));
            var who = CliContext.Actor(parse.GetValue(actor));
            await using var session = await cli.OpenAsync(parse, token);
            var outcome = await act(session.Engine, uuid, who, parse.GetValue(reason), token);
            Report(cli, parse, name, outcome, who, parse.GetValue(reason));
            return CliContext.Ok;
        });
        return command;
    }

    private static Command Resolve(CliContext cli)
    {
        var task = new Argument<string>("task") { Description = "The task uuid" };
        var step = new Argument<string>("step") { Description = "The step name (or uuid)" };
        var result = new Option<string?>("--result") { Description = "The step's result as JSON, which its dependents receive (default: null)" };
        var (actor, reason) = AuditOptions();
        var command = new Command("resolve", "Mark a step resolved by hand, with the result its dependents will see") { task, step, result, actor, reason };
        cli.Handle(command, async (parse, token) =>
        {
            var uuid = CliContext.TaskUuid(parse.GetValue(task));
            var value = ParseResult(parse.GetValue(result));
            var who = CliContext.Actor(parse.GetValue(actor));
            await using var session = await cli.OpenAsync(parse, token);
            var outcome = await session.Engine.ResolveStepAsync(uuid, parse.GetValue(step)!, value, who, parse.GetValue(reason), token);
            Report(cli, parse, "resolve", outcome, who, parse.GetValue(reason));
            return CliContext.Ok;
        });
        return command;
    }

    /// <summary>--result as JSON (shared with the dashboard's form).</summary>
    public static JsonElement? ParseResult(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new UsageException($"--result is not valid JSON: {e.Message}");
        }
    }

    private static void Report(CliContext cli, ParseResult parse, string command, TaskOutcome outcome, string actor, string? reason)
    {
        if (parse.GetValue(cli.Json))
        {
            cli.WriteJson(w => JsonOut.Outcome(w, command, outcome, actor, reason));
            return;
        }
        var t = cli.Terminal;
        var state = outcome.TaskState.ToWire();
        t.Out.WriteLine($"{command}: task {outcome.TaskUuid} is now {t.Paint(state, StateStyle.Sgr(state))} (by {actor}{(reason is null ? "" : $": {reason}")})");
        t.Out.WriteLine("next: " + Next(outcome));
    }

    /// <summary>What the host (or the operator) should do now, in words.</summary>
    public static string Next(TaskOutcome o) => o.Action switch
    {
        RecommendedAction.Execute => $"{o.ReadySteps} step(s) ready: enqueue the task (your queue adapter's retry, or a worker polling for its handlers picks it up)",
        RecommendedAction.Reenqueue => $"re-enqueue in {o.DelaySeconds:0.#}s",
        RecommendedAction.Wait => "steps are in flight elsewhere; whoever finishes them drives the task on",
        RecommendedAction.Complete => "nothing: the task is complete",
        RecommendedAction.Error => "the task is in error: inspect it with 'tasker show'",
        _ => "nothing: the task is cancelled",
    };
}
