using System.CommandLine;
using Tasker.Cli.Output;
using Tasker.Core;

namespace Tasker.Cli.Commands;

/// <summary><c>tasker tasks</c>: tasks newest first, filtered by state, namespace, name and age, one page at a time.</summary>
internal static class TasksCommand
{
    public static Command Build(CliContext cli)
    {
        var state = new Option<string?>("--state") { Description = "Only tasks in this state (pending, in_progress, waiting_for_retry, complete, error, cancelled, resolved_manually)" };
        var ns = new Option<string?>("--namespace") { Description = "Only tasks of this namespace" };
        var name = new Option<string?>("--name") { Description = "Only tasks of this template name" };
        var olderThan = new Option<string?>("--older-than") { Description = "Only tasks created longer ago than this (e.g. 1h, 7d)" };
        var newerThan = new Option<string?>("--newer-than") { Description = "Only tasks created within this (e.g. 15m)" };
        var limit = new Option<int>("--limit") { Description = "Tasks per page (1-1000)", DefaultValueFactory = _ => 50 };
        var page = new Option<int>("--page") { Description = "Page number, from 1", DefaultValueFactory = _ => 1 };
        var command = new Command("tasks", "List tasks, newest first") { state, ns, name, olderThan, newerThan, limit, page };
        cli.Handle(command, async (parse, token) =>
        {
            var (pageNumber, pageSize) = (parse.GetValue(page), parse.GetValue(limit));
            if (pageSize is < 1 or > 1000) throw new UsageException("--limit must be between 1 and 1000");
            if (pageNumber < 1) throw new UsageException("--page must be 1 or more");
            var query = Query(parse.GetValue(state), parse.GetValue(ns), parse.GetValue(name), parse.GetValue(olderThan), parse.GetValue(newerThan),
                pageSize, pageNumber);
            await using var session = await cli.OpenAsync(parse, token);
            var tasks = await session.Engine.ListTasksAsync(query, token);
            if (parse.GetValue(cli.Json))
            {
                cli.WriteJson(w => JsonOut.Summaries(w, tasks, pageNumber, pageSize));
                return CliContext.Ok;
            }
            Print(cli.Terminal, tasks, pageNumber, pageSize);
            return CliContext.Ok;
        });
        return command;
    }

    /// <summary>The listing query from the filters as typed (shared with the dashboard).</summary>
    public static TaskQuery Query(string? state, string? ns, string? name, string? olderThan, string? newerThan, int pageSize, int pageNumber)
    {
        TaskState? wanted = null;
        if (!string.IsNullOrWhiteSpace(state))
        {
            if (!Enum.GetValues<TaskState>().Any(s => s.ToWire() == state))
                throw new UsageException($"--state: unknown state '{state}' (one of {string.Join(", ", Enum.GetValues<TaskState>().Select(s => s.ToWire()))})");
            wanted = StateNames.ParseTaskState(state);
        }
        var now = DateTimeOffset.UtcNow;
        return new TaskQuery(wanted, Blank(ns), Blank(name), pageSize,
            CreatedAfter: string.IsNullOrWhiteSpace(newerThan) ? null : now - CliContext.Age(newerThan, "--newer-than"),
            CreatedBefore: string.IsNullOrWhiteSpace(olderThan) ? null : now - CliContext.Age(olderThan, "--older-than"),
            Offset: (pageNumber - 1) * pageSize);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static void Print(Terminal terminal, IReadOnlyList<TaskSummary> tasks, int page, int limit)
    {
        if (tasks.Count == 0)
        {
            terminal.Out.WriteLine(page == 1 ? "No tasks match." : $"No tasks on page {page}.");
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var table = new Table("TASK", "NAMESPACE/NAME", "VERSION", "STATE", "CREATED", "UPDATED");
        foreach (var t in tasks)
        {
            var state = t.State.ToWire();
            table.Add((t.TaskUuid.ToString(), null), ($"{t.Namespace}/{t.Name}", null), (t.Version, null), (state, StateStyle.Sgr(state)),
                (Format.Age(t.CreatedAt, now), null), (Format.Age(t.UpdatedAt, now), null));
        }
        table.Write(terminal);
        var more = tasks.Count == limit ? $"; next page: --page {page + 1}" : "";
        terminal.Out.WriteLine(terminal.Dim($"page {page}, {tasks.Count} task{(tasks.Count == 1 ? "" : "s")}{more}"));
    }
}
