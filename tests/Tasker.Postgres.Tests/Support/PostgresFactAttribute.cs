using Xunit;

namespace Tasker.Postgres.Tests.Support;

/// <summary>A fact that needs PostgreSQL: skipped (with the reason) only outside CI when none is available.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestDatabase.SkipReason is { } reason)
            Skip = reason;
    }
}

/// <summary>A theory that needs PostgreSQL; see <see cref="PostgresFactAttribute"/>.</summary>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (TestDatabase.SkipReason is { } reason)
            Skip = reason;
    }
}
