namespace Tasker.Postgres;

/// <summary>
/// The dead rows of a table every task write updates, and when autovacuum will clear them (<c>tasker stats</c>).
/// Every claim and every completion leaves the task's earlier row version dead, and a dead version's entry in the
/// work claims' index stays there, at the head of the queue where every claim starts, until a vacuum removes it: claims
/// slow down as they pile up (docs/operations.md, "Server settings").
/// </summary>
/// <param name="Table">tasker_tasks or tasker_workflow_steps.</param>
/// <param name="LiveRows">Rows, as PostgreSQL's statistics estimate them.</param>
/// <param name="DeadRows">Dead row versions not vacuumed yet, as PostgreSQL's statistics estimate them.</param>
/// <param name="VacuumAt">How many dead rows make autovacuum vacuum the table (its threshold plus scale factor times the rows).</param>
/// <param name="Autovacuum">Whether autovacuum runs for the table (the server's <c>autovacuum</c> and <c>track_counts</c>, the table's <c>autovacuum_enabled</c>).</param>
/// <param name="LastVacuum">The last vacuum, manual or automatic; null if the statistics know of none.</param>
/// <param name="LastVacuumWasAutomatic">Whether <paramref name="LastVacuum"/> was autovacuum's.</param>
public sealed record TableHealth(string Table, long LiveRows, long DeadRows, long VacuumAt, bool Autovacuum, DateTimeOffset? LastVacuum,
    bool LastVacuumWasAutomatic)
{
    /// <summary>
    /// Dead task rows past which a claim's walk slows down noticeably: about 0.3 ms more a claim (the walk's head
    /// grew by 1.7–2.0 ms a claim of 8 after 150,000 one-step tasks, 300,000 dead rows; docs/performance.md, session 32).
    /// </summary>
    public const long DeadTaskRowsOfConcern = 50_000;

    /// <summary>
    /// Whether autovacuum lets more than <see cref="DeadTaskRowsOfConcern"/> dead rows pile up in tasker_tasks before
    /// it vacuums (its default scale factor on a long history), or never runs for it. False for the steps table, which
    /// claims read by key.
    /// </summary>
    public bool LetsDeadTaskRowsPileUp => Table == "tasker_tasks" && (!Autovacuum || VacuumAt > DeadTaskRowsOfConcern);
}
