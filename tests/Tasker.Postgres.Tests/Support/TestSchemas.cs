using System.Collections.Concurrent;
using Npgsql;
using Xunit;

namespace Tasker.Postgres.Tests.Support;

/// <summary>
/// Hands out fresh schema names (<c>tasker_t_&lt;run&gt;_&lt;n&gt;</c>) and drops them all when the test collection ends, so
/// concurrent runs on one server never collide and nothing is left behind.
/// </summary>
public sealed class TestSchemas : IAsyncLifetime
{
    private static readonly string Run = Guid.NewGuid().ToString("N")[..10];
    private static int _next;
    private static readonly ConcurrentBag<string> Created = [];

    public static string Next()
    {
        var name = $"tasker_t_{Run}_{Interlocked.Increment(ref _next)}";
        Created.Add(name);
        return name;
    }

    /// <summary>Store options for a new, empty schema (migrations create it).</summary>
    public static async Task<PostgresStoreOptions> NewStoreOptionsAsync(string? schema = null, string applicationName = "tasker-tests") => new()
    {
        ConnectionString = await TestDatabase.ConnectionStringAsync(),
        Schema = schema ?? Next(),
        ApplicationName = applicationName,
        MaxPoolSize = 30,
        OperationTimeout = TimeSpan.FromSeconds(60),
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (Created.IsEmpty || TestDatabase.SkipReason is not null) return;
        try
        {
            await using var connection = new NpgsqlConnection(await TestDatabase.ConnectionStringAsync());
            await connection.OpenAsync();
            foreach (var schema in Created.Distinct())
            {
                await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
                await drop.ExecuteNonQueryAsync();
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // Cleanup is best effort: the server may already be gone (e.g. a torn-down throwaway cluster).
        }
    }
}

/// <summary>All PostgreSQL tests share one collection: they run one class at a time (the machine is small and some
/// tests measure time or kill connections) and their schemas are dropped at the end.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TestSchemas>
{
    public const string Name = "postgres";
}
