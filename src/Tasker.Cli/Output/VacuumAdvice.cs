using Tasker.Postgres;

namespace Tasker.Cli.Output;

/// <summary>What <c>tasker stats</c> and the dashboard say of a table whose dead rows autovacuum lets pile up.</summary>
internal static class VacuumAdvice
{
    /// <summary>The advice for <paramref name="table"/>, or null when autovacuum keeps it clean enough.</summary>
    public static string? For(TableHealth table)
    {
        if (!table.LetsDeadTaskRowsPileUp) return null;
        var (why, fix) = table.Autovacuum
            ? ($"autovacuum waits for {Format.Count(table.VacuumAt)} dead rows in {table.Table}", "give it a fixed threshold")
            : ($"autovacuum is off for {table.Table}", "turn it on with a fixed threshold");
        return $"{why}; work claims slow down as dead rows pile up past about {Format.Count(TableHealth.DeadTaskRowsOfConcern)}: " +
            $"{fix} (docs/operations.md, \"Server settings\")";
    }
}
