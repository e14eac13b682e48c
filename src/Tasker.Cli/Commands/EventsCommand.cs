using System.CommandLine;
using System.Text.Json;
using Tasker.Cli.Output;
using Tasker.Postgres.Queries;

namespace Tasker.Cli.Commands;

/// <summary>
/// <c>tasker events [--follow]</c>: the audit trail of every task as one stream (task and step transitions, oldest
/// first), read from the PostgreSQL transition tables. With <c>--follow</c> it polls every half second and prints
/// what happens until Ctrl-C; <c>--json</c> prints one object per line (a stream for <c>jq</c> or a log shipper).
/// </summary>
internal static class EventsCommand
{
    /// <summary>How often --follow looks for new transitions.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Where the stream starts without --since: the last hour, or (with --follow) now.</summary>
    private static readonly TimeSpan DefaultSince = TimeSpan.FromHours(1);

    public static Command Build(CliContext cli)
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing transitions as they happen, until Ctrl-C" };
        var since = new Option<string?>("--since") { Description = "Start with the transitions of this long ago (e.g. 15m; default 1h, or now with --follow)" };
        var task = new Option<string?>("--task") { Description = "Only this task's transitions" };
        var ns = new Option<string?>("--namespace") { Description = "Only tasks of this namespace" };
        var command = new Command("events", "Print the audit trail's transitions (task and step), oldest first; --follow to watch them happen")
        {
            follow, since, task, ns,
        };
        cli.Handle(command, async (parse, token) =>
        {
            var taskUuid = parse.GetValue(task) is { } text ? CliContext.TaskUuid(text) : (Guid?)null;
            var start = parse.GetValue(since) is { } age ? DateTimeOffset.UtcNow - CliContext.Age(age, "--since")
                : parse.GetValue(follow) ? DateTimeOffset.UtcNow : DateTimeOffset.UtcNow - DefaultSince;
            var json = parse.GetValue(cli.Json);
            await using var session = await cli.OpenAsync(parse, token);
            var feed = new TransitionFeed(session.Store.DataSource, taskUuid, parse.GetValue(ns)).StartAt(start);
            var printer = new Printer(cli.Terminal, json);
            if (!parse.GetValue(follow))
            {
                // Printed a round trip at a time: a long range starts printing at once and is never held whole.
                var printed = 0;
                await foreach (var batch in feed.ReadBatchesAsync(token))
                {
                    foreach (var e in batch) printer.Write(e);
                    printed += batch.Count;
                }
                if (!json && printed == 0) cli.Terminal.Out.WriteLine("No transitions.");
                return CliContext.Ok;
            }
            try
            {
                while (true)
                {
                    foreach (var e in await feed.ReadAsync(token)) printer.Write(e);
                    cli.Terminal.Out.Flush();
                    await Task.Delay(PollInterval, token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return CliContext.Ok; // Ctrl-C is how --follow ends
            }
        });
        return command;
    }

    /// <summary>One line per transition: fixed columns for people (printed as they come, so not a Table), or JSON.</summary>
    private sealed class Printer(Terminal terminal, bool json)
    {
        private bool _headed;

        public void Write(TransitionEvent e)
        {
            if (json)
            {
                terminal.Out.WriteLine(JsonOut.Render(w => Json(w, e), indented: false));
                return;
            }
            if (!_headed)
            {
                terminal.Out.WriteLine(terminal.Bold(Line("AT", "TASK", "NAMESPACE/NAME", "STEP", "TRANSITION", "REASON", "ACTOR")));
                _headed = true;
            }
            var transition = $"{e.FromState ?? "∅"} → {e.ToState}";
            var line = Line(Format.Time(e.At), e.TaskUuid.ToString(), $"{e.Namespace}/{e.TaskName}", e.StepName ?? "(task)",
                transition, e.Reason, e.Actor ?? "");
            terminal.Out.WriteLine(line.Replace(transition, terminal.Paint(transition, StateStyle.Sgr(e.ToState)), StringComparison.Ordinal));
        }

        private static string Line(string at, string task, string name, string step, string transition, string reason, string actor) =>
            $"{at,-20}  {task,-36}  {name,-30}  {step,-20}  {transition,-28}  {Format.FirstLine(reason),-24}  {actor}".TrimEnd();

        private static void Json(Utf8JsonWriter w, TransitionEvent e)
        {
            w.WriteStartObject();
            w.WriteString("transition_uuid", e.TransitionUuid);
            w.WriteString("task_uuid", e.TaskUuid);
            w.WriteString("namespace", e.Namespace);
            w.WriteString("task_name", e.TaskName);
            if (e.StepName is null) w.WriteNull("step_name"); else w.WriteString("step_name", e.StepName);
            if (e.FromState is null) w.WriteNull("from_state"); else w.WriteString("from_state", e.FromState);
            w.WriteString("to_state", e.ToState);
            w.WriteString("reason", e.Reason);
            if (e.Actor is null) w.WriteNull("actor"); else w.WriteString("actor", e.Actor);
            if (e.Attempt is { } attempt) w.WriteNumber("attempt", attempt); else w.WriteNull("attempt");
            w.WriteNumber("ordinal", e.Ordinal);
            w.WriteString("at", e.At);
            w.WriteEndObject();
        }
    }
}
