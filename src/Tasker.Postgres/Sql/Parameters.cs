using Npgsql;
using NpgsqlTypes;

namespace Tasker.Postgres.Sql;

/// <summary>
/// Positional parameters with explicit PostgreSQL types. Explicit types matter for nulls and for arrays sent to
/// <c>unnest</c>: PostgreSQL must know <c>text[]</c> from <c>timestamptz[]</c> before it sees a value.
/// </summary>
internal static class Parameters
{
    public static NpgsqlParameter Text(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    public static NpgsqlParameter Int(int? value) =>
        new() { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer, Value = value is { } v ? v : DBNull.Value };

    public static NpgsqlParameter Timestamp(DateTimeOffset? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value is { } v ? v.UtcDateTime : DBNull.Value };

    public static NpgsqlParameter<T[]> Array<T>(T[] values) => new() { TypedValue = values };

    public static NpgsqlParameter TextArray(string?[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values };

    public static NpgsqlParameter UuidArray(Guid?[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = values };

    public static NpgsqlParameter IntArray(int?[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = values };

    public static NpgsqlParameter DoubleArray(double?[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double, Value = values };

    public static NpgsqlParameter TimestampArray(DateTime?[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = values };

    /// <summary>UTC instants as PostgreSQL wants them (timestamptz takes DateTime of kind Utc).</summary>
    public static DateTime? Utc(DateTimeOffset? value) => value?.UtcDateTime;
}
