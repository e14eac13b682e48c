using System.CommandLine;
using Tasker.Cli.Diagnosis;
using Tasker.Cli.Output;
using Tasker.Core;

namespace Tasker.Cli.Commands;

/// <summary>
/// <c>tasker show</c>: one task for diagnosis: its DAG level by level with each step's state, the steps' attempts,
/// timings and last error, why each waiting step is not running, full errors with backtraces, and the audit trail.
/// </summary>
internal static class ShowCommand
{
    public static Command Build(CliContext cli)
    {
        var task = new Argument<string>("task") { Description = "The task uuid" };
        var command = new Command("show", "Show a task: its DAG, steps, errors, why waiting steps are not running, and its audit trail") { task };
        cli.Handle(command, async (parse, token) =>
        {
            var uuid = CliContext.TaskUuid(parse.GetValue(task));
            await using var session = await cli.OpenAsync(parse, token);
            var view = await session.Engine.GetTaskAsync(uuid, includeTransitions: true, token);
            var now = DateTimeOffset.UtcNow;
            if (parse.GetValue(cli.Json))
                cli.WriteJson(w => JsonOut.Task(w, view, now, StaleThresholds.Default.UnclaimedAfter));
            else
                Print(cli.Terminal, view, now);
            return CliContext.Ok;
        });
        return command;
    }

    private static void Print(Terminal t, TaskView view, DateTimeOffset now)
    {
        var h = view.Header;
        var state = h.State.ToWire();
        t.Out.WriteLine($"{t.Bold("Task")} {h.Uuid}  {h.Namespace}/{h.Name} {h.Version}  {t.Paint(state.ToUpperInvariant(), StateStyle.Sgr(state) ?? Sgr.Bold)}");
        t.Out.WriteLine($"  created {Format.Time(h.CreatedAt)} ({Format.Age(h.CreatedAt, now)}), updated {Format.Age(h.UpdatedAt, now)}" +
                        (h.FinishedAt is { } f ? $", finished {Format.Time(f)}" : ""));
        var request = new[] { ("initiator", h.Initiator), ("source", h.SourceSystem), ("reason", h.Reason), ("correlation", h.CorrelationId) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}: {p.Item2}").ToList();
        if (h.Tags.Count > 0) request.Add("tags: " + string.Join(",", h.Tags));
        if (request.Count > 0) t.Out.WriteLine("  " + string.Join("  ", request));
        var context = h.Context.GetRawText();
        t.Out.WriteLine("  context: " + (context.Length > 200 ? context[..199] + "…" : context));

        t.Out.WriteLine();
        t.Out.WriteLine(t.Bold("DAG") + t.Dim("  (indented by depth; ← the steps it waits for)"));
        foreach (var (level, steps) in DagLayout.Levels(view).Select((l, i) => (i, l)))
            foreach (var s in steps)
            {
                var st = s.State.ToWire();
                var name = new string(' ', 2 + level * 2) + Mark(s.State) + " " + s.Name;
                var deps = s.Dependencies.Count > 0 ? "  ← " + string.Join(", ", s.Dependencies) : "";
                t.Out.WriteLine(deps.Length == 0
                    ? $"{name.PadRight(32)} {t.Paint(st, StateStyle.Sgr(st))}"
                    : $"{name.PadRight(32)} {t.Paint(st.PadRight(18), StateStyle.Sgr(st))}{deps}");
            }

        t.Out.WriteLine();
        var table = new Table("STEP", "HANDLER", "STATE", "ATTEMPTS", "STARTED", "TOOK", "LAST ERROR");
        foreach (var s in view.Steps)
        {
            var st = s.State.ToWire();
            var took = s.StartedAt is { } start && s.FinishedAt is { } end && end >= start ? Format.Duration(end - start)
                : s.StartedAt is { } running && s.State == StepState.InProgress ? Format.Duration(now - running) + " so far" : "";
            table.Add((s.Name, null), (s.Handler, null), (st, StateStyle.Sgr(st)), ($"{s.Attempts}/{s.MaxAttempts}", null),
                (Format.Time(s.StartedAt), null), (took, null), (Format.FirstLine(s.Error?.Message), s.Error is null ? null : Sgr.Red));
        }
        table.Write(t);

        var waiting = view.Steps.Select(s => (s, why: WhyNotRunning.Explain(view, s, now, StaleThresholds.Default.UnclaimedAfter)))
            .Where(p => p.why is not null).ToArray();
        if (waiting.Length > 0)
        {
            t.Out.WriteLine();
            t.Out.WriteLine(t.Bold("Why not running"));
            foreach (var (s, why) in waiting) t.Out.WriteLine($"  {s.Name}: {why}");
        }

        var failed = view.Steps.Where(s => s.Error is not null).ToArray();
        if (failed.Length > 0)
        {
            t.Out.WriteLine();
            t.Out.WriteLine(t.Bold("Errors"));
            foreach (var s in failed)
            {
                var e = s.Error!;
                var kind = e.Permanent ? "permanent" : "retryable";
                t.Out.WriteLine($"  {t.Paint(s.Name, Sgr.Red)} attempt {e.Attempt} at {Format.Time(e.At)} ({kind}{(e.ErrorType is null ? "" : ", " + e.ErrorType)}):");
                foreach (var line in e.Message.Split('\n')) t.Out.WriteLine("    " + line.TrimEnd('\r'));
                // A backtrace entry may hold several lines (Python's formatted frames do): indent each, drop blank ones.
                foreach (var line in (e.Backtrace ?? []).SelectMany(entry => entry.Split('\n')).Where(l => !string.IsNullOrWhiteSpace(l)))
                    t.Out.WriteLine(t.Dim("      " + line.TrimEnd('\r', ' ')));
            }
        }

        t.Out.WriteLine();
        t.Out.WriteLine(t.Bold("Audit trail"));
        var trail = new Table("AT", "STEP", "TRANSITION", "REASON", "ACTOR");
        foreach (var r in view.Transitions)
            trail.Add((Format.Time(r.At), null), (r.StepName ?? "(task)", null), ($"{r.From ?? "∅"} → {r.To}", StateStyle.Sgr(r.To)),
                (r.Reason, null), (r.Actor ?? "", null));
        trail.Write(t);
    }

    private static string Mark(StepState state) => state switch
    {
        StepState.Complete => "✓",
        StepState.Error => "✗",
        StepState.InProgress => "▶",
        StepState.WaitingForRetry => "↻",
        StepState.ResolvedManually => "✓",
        StepState.Cancelled => "⊘",
        _ => "○",
    };
}
