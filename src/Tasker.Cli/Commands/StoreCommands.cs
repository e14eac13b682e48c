using System.Globalization;
using System.CommandLine;
using Tasker.Cli.Output;
using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Postgres;

namespace Tasker.Cli.Commands;

/// <summary><c>tasker stats</c>, <c>templates</c>, <c>migrate</c> and <c>prune</c>: the store as a whole.</summary>
internal static class StoreCommands
{
    public static Command Stats(CliContext cli)
    {
        var command = new Command("stats",
            "Count tasks and steps by state, ready steps by the handler they wait for, the oldest unfinished task, stuck work and dead rows awaiting vacuum");
        cli.Handle(command, async (parse, token) =>
        {
            await using var session = await cli.OpenAsync(parse, token);
            var stats = await session.Store.GetStatsAsync(token);
            var work = await session.Store.CountWorkAsync(DateTimeOffset.UtcNow, token);
            var tables = await session.Store.GetTableHealthAsync(token);
            if (parse.GetValue(cli.Json))
            {
                cli.WriteJson(w => JsonOut.Stats(w, stats, work, tables));
                return CliContext.Ok;
            }
            var stale = await session.Engine.ListStaleWorkAsync(10_000, StaleThresholds.Default, token);
            var t = cli.Terminal;
            var table = new Table("STATE", "TASKS", "STEPS (UNFINISHED TASKS)");
            foreach (var state in Enum.GetValues<TaskState>().Select(s => s.ToWire()))
                table.Add((state, StateStyle.Sgr(state)), (stats.TasksByState.GetValueOrDefault(state).ToString(), null),
                    (stats.StepsByState.GetValueOrDefault(state).ToString(), null));
            table.Write(t);
            t.Out.WriteLine();
            WriteReady(t, work);
            t.Out.WriteLine("oldest unfinished task: " + (stats.OldestUnfinishedTaskCreatedAt is { } at ? $"{Format.Time(at)} ({Format.Age(at, DateTimeOffset.UtcNow)})" : "none"));
            var stuck = stale.TaskUuids.Count;
            t.Out.WriteLine("stuck tasks: " + (stuck == 0 ? t.Paint("0", Sgr.Green) : t.Paint(stuck.ToString(), Sgr.Yellow) + " (see 'tasker stale')"));
            t.Out.WriteLine();
            WriteTables(t, tables);
            return CliContext.Ok;
        });
        return command;
    }

    /// <summary>
    /// Ready steps nobody holds, by the handler they wait for: in worker mode, a handler that no running worker has
    /// shows here (a rolling deploy, a language without workers) long before its work counts as stale.
    /// </summary>
    private static void WriteReady(Terminal t, WorkCounts work)
    {
        if (work.ReadyStepsByHandler.Count == 0)
        {
            t.Out.WriteLine("ready steps nobody holds: none");
            t.Out.WriteLine();
            return;
        }
        var table = new Table("HANDLER", "READY STEPS NOBODY HOLDS");
        foreach (var (handler, count) in work.ReadyStepsByHandler.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            table.Add(handler, count.ToString(CultureInfo.InvariantCulture));
        table.Write(t);
        t.Out.WriteLine();
    }

    /// <summary>
    /// Dead rows awaiting vacuum in the tables every task write updates, and when autovacuum will clear them: work claims
    /// slow down as dead task rows pile up, so a setting that lets them is called out.
    /// </summary>
    private static void WriteTables(Terminal t, IReadOnlyList<TableHealth> tables)
    {
        var now = DateTimeOffset.UtcNow;
        var table = new Table("TABLE", "ROWS", "DEAD ROWS", "AUTOVACUUM AT", "LAST VACUUM");
        foreach (var h in tables)
            table.Add(h.Table, Format.Count(h.LiveRows), Format.Count(h.DeadRows), h.Autovacuum ? Format.Count(h.VacuumAt) + " dead" : "off",
                h.LastVacuum is { } at ? $"{Format.Age(at, now)} ({(h.LastVacuumWasAutomatic ? "autovacuum" : "manual")})" : "never");
        table.Write(t);
        foreach (var advice in tables.Select(VacuumAdvice.For).OfType<string>())
            t.Out.WriteLine(t.Paint("warning: ", Sgr.Yellow) + advice);
    }

    public static Command Templates(CliContext cli)
    {
        var command = new Command("templates", "List the registered task templates");
        cli.Handle(command, async (parse, token) =>
        {
            await using var session = await cli.OpenAsync(parse, token);
            var templates = await session.Store.ListTemplatesAsync(token);
            if (parse.GetValue(cli.Json))
            {
                cli.WriteJson(w => JsonOut.Templates(w, templates));
                return CliContext.Ok;
            }
            if (templates.Count == 0)
            {
                cli.Terminal.Out.WriteLine("No templates registered.");
                return CliContext.Ok;
            }
            var table = new Table("NAMESPACE", "NAME", "VERSION", "STEPS", "REGISTERED", "DESCRIPTION");
            foreach (var tpl in templates)
                table.Add(tpl.Namespace, tpl.Name, tpl.Version, tpl.StepCount.ToString(), Format.Time(tpl.RegisteredAt), tpl.Description ?? "");
            table.Write(cli.Terminal);
            return CliContext.Ok;
        });
        return command;
    }

    public static Command Migrate(CliContext cli)
    {
        var command = new Command("migrate", "Apply the PostgreSQL migrations this database lacks (safe to repeat, safe from many processes)");
        cli.Handle(command, async (parse, token) =>
        {
            await using var session = await cli.OpenAsync(parse, token, migrate: true);
            if (parse.GetValue(cli.Json))
                cli.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteBoolean("migrated", true);
                    w.WriteString("schema", parse.GetValue(cli.Schema) ?? "public");
                    w.WriteEndObject();
                });
            else
                cli.Terminal.Out.WriteLine($"schema {parse.GetValue(cli.Schema) ?? "public"} is up to date");
            return CliContext.Ok;
        });
        return command;
    }

    public static Command Prune(CliContext cli)
    {
        var before = new Option<string>("--finished-before") { Description = "Delete tasks finished longer ago than this (e.g. 30d)", Required = true };
        var errors = new Option<bool>("--include-errors") { Description = "Also delete tasks that ended in error (kept by default for retry)" };
        var batch = new Option<int>("--batch-size") { Description = "Tasks deleted per transaction (1-10000)", DefaultValueFactory = _ => 500 };
        var command = new Command("prune", "Delete finished tasks and their audit trail, in small batches") { before, errors, batch };
        cli.Handle(command, async (parse, token) =>
        {
            var age = CliContext.Age(parse.GetValue(before), "--finished-before");
            var size = parse.GetValue(batch);
            if (size is < 1 or > 10_000) throw new UsageException("--batch-size must be between 1 and 10000");
            var cutoff = DateTimeOffset.UtcNow - age;
            await using var session = await cli.OpenAsync(parse, token);
            var deleted = await session.Store.PruneFinishedAsync(cutoff, parse.GetValue(errors), size, token);
            if (parse.GetValue(cli.Json))
                cli.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("deleted", deleted);
                    w.WriteString("finished_before", cutoff);
                    w.WriteEndObject();
                });
            else
                cli.Terminal.Out.WriteLine($"deleted {deleted} task(s) finished before {Format.Time(cutoff)}");
            return CliContext.Ok;
        });
        return command;
    }
}
