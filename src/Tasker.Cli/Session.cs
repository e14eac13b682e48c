using Tasker.Core;
using Tasker.Postgres;

namespace Tasker.Cli;

/// <summary>A bad command line: printed with the usage hint, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The PostgreSQL store and an engine over it, for one command. Commands never migrate implicitly (only
/// <c>tasker migrate</c> changes the schema), and a database that does not answer fails fast: an operator at a
/// terminal wants the error in seconds, not after the store's full retry budget.
/// </summary>
internal sealed class Session : IAsyncDisposable
{
    public const string UrlVariable = "TASKER_DATABASE_URL";

    private Session(PostgresStore store)
    {
        Store = store;
        Engine = new TaskerEngine(store);
    }

    public PostgresStore Store { get; }
    public TaskerEngine Engine { get; }

    public static async Task<Session> OpenAsync(string? databaseUrl, string? schema, bool migrate, CancellationToken cancellationToken)
    {
        var url = string.IsNullOrWhiteSpace(databaseUrl) ? Environment.GetEnvironmentVariable(UrlVariable) : databaseUrl;
        if (string.IsNullOrWhiteSpace(url))
            throw new UsageException($"no database: pass --database-url or set {UrlVariable} (e.g. postgres://user:password@host:5432/db)");
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = url,
            Schema = string.IsNullOrWhiteSpace(schema) ? null : schema,
            MigrateOnOpen = migrate,
            MaxRetries = 1,
            OperationTimeout = TimeSpan.FromSeconds(20),
            MaxPoolSize = 4,
            ApplicationName = "tasker-cli",
        }, cancellationToken).ConfigureAwait(false);
        return new Session(store);
    }

    public ValueTask DisposeAsync() => Engine.DisposeAsync();
}
