using Npgsql;

namespace Tasker.Postgres.Tests.Support;

/// <summary>Direct SQL against a test schema, for assertions on the stored rows themselves.</summary>
public static class TestSql
{
    public static async Task<NpgsqlConnection> OpenAsync(string? schema)
    {
        var builder = new NpgsqlConnectionStringBuilder(await TestDatabase.ConnectionStringAsync()) { Pooling = false };
        if (schema is not null) builder.SearchPath = schema;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task<T> ScalarAsync<T>(string? schema, string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync(schema);
        await using var command = Command(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    public static async Task<int> ExecuteAsync(string? schema, string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync(schema);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    public static async Task<List<object?[]>> RowsAsync(string? schema, string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync(schema);
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, object[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        return command;
    }
}
