using System.Text.RegularExpressions;

namespace Tasker.Postgres.Connection;

/// <summary>
/// Checks names that end up inside SQL text (the schema). Everything else is a bind parameter; a schema name cannot
/// be, so it is restricted to plain lower-case identifiers that need no quoting.
/// </summary>
internal static partial class PostgresIdentifiers
{
    public static bool IsValid(string name) => Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex Pattern();
}
