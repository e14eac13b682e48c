using System.CommandLine;
using Tasker.Cli.Output;
using Tasker.Core;

namespace Tasker.Cli.Commands;

/// <summary><c>tasker stale</c>: everything stuck: expired leases, due retries, unclaimed ready steps, undriven pending tasks.</summary>
internal static class StaleCommand
{
    public static Command Build(CliContext cli)
    {
        var unclaimed = new Option<string?>("--unclaimed-after") { Description = "List ready steps nobody claimed for longer than this (default 5m)" };
        var pending = new Option<string?>("--pending-after") { Description = "List pending tasks nobody drove for longer than this (default 5m)" };
        var limit = new Option<int>("--limit") { Description = "At most this many of each kind (1-10000)", DefaultValueFactory = _ => 100 };
        var command = new Command("stale", "List stuck work: expired leases, due retries, ready steps nobody claimed, pending tasks nobody drove") { unclaimed, pending, limit };
        cli.Handle(command, async (parse, token) =>
        {
            var thresholds = Thresholds(parse.GetValue(unclaimed), parse.GetValue(pending));
            var max = parse.GetValue(limit);
            if (max is < 1 or > 10_000) throw new UsageException("--limit must be between 1 and 10000");
            await using var session = await cli.OpenAsync(parse, token);
            var stale = await session.Engine.ListStaleWorkAsync(max, thresholds, token);
            if (parse.GetValue(cli.Json))
                cli.WriteJson(w => JsonOut.Stale(w, stale, thresholds));
            else
                Print(cli.Terminal, stale, thresholds);
            return CliContext.Ok;
        });
        return command;
    }

    public static StaleThresholds Thresholds(string? unclaimed, string? pending) => new(
        string.IsNullOrWhiteSpace(unclaimed) ? StaleThresholds.Default.UnclaimedAfter : CliContext.Age(unclaimed, "--unclaimed-after"),
        string.IsNullOrWhiteSpace(pending) ? StaleThresholds.Default.PendingAfter : CliContext.Age(pending, "--pending-after"));

    private static void Print(Terminal t, StaleWork stale, StaleThresholds thresholds)
    {
        var now = DateTimeOffset.UtcNow;
        if (stale.TaskUuids.Count == 0)
        {
            t.Out.WriteLine(t.Paint("Nothing stuck.", Sgr.Green) + t.Dim($" (ready steps unclaimed > {Format.Duration(thresholds.UnclaimedAfter)}, pending tasks undriven > {Format.Duration(thresholds.PendingAfter)})"));
            return;
        }
        Section(t, "Expired leases (worker died or hangs)", stale.ExpiredLeases.Count, () =>
        {
            var table = new Table("TASK", "STEP", "LEASE EXPIRED");
            foreach (var l in stale.ExpiredLeases) table.Add(l.TaskUuid.ToString(), l.StepName, Format.Age(l.LeaseExpiresAt, now));
            return table;
        });
        Section(t, "Retries due (nobody re-enqueued the task)", stale.RetryDue.Count, () =>
        {
            var table = new Table("TASK", "DUE");
            foreach (var r in stale.RetryDue) table.Add(r.TaskUuid.ToString(), Format.Age(r.NextRetryAt, now));
            return table;
        });
        Section(t, $"Ready steps nobody claimed for > {Format.Duration(thresholds.UnclaimedAfter)}", stale.UnclaimedSteps.Count, () =>
        {
            var table = new Table("TASK", "STEP", "WAITS FOR HANDLER", "READY SINCE");
            foreach (var u in stale.UnclaimedSteps) table.Add(u.TaskUuid.ToString(), u.StepName, u.Handler, Format.Age(u.ReadySince, now));
            return table;
        });
        Section(t, $"Pending tasks nobody drove for > {Format.Duration(thresholds.PendingAfter)}", stale.UndrivenTasks.Count, () =>
        {
            var table = new Table("TASK", "NAMESPACE/NAME", "PENDING SINCE");
            foreach (var u in stale.UndrivenTasks) table.Add(u.TaskUuid.ToString(), $"{u.Namespace}/{u.Name}", Format.Age(u.PendingSince, now));
            return table;
        });
        t.Out.WriteLine(t.Dim($"{stale.TaskUuids.Count} task(s) to re-enqueue."));
    }

    private static void Section(Terminal t, string title, int count, Func<Table> table)
    {
        if (count == 0) return;
        t.Out.WriteLine(t.Paint($"{title}: {count}", Sgr.Yellow));
        table().Write(t);
        t.Out.WriteLine();
    }
}
