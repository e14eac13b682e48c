using Microsoft.Extensions.Logging;
using Tasker.Postgres.Migrations;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>What the store logs: migrations applied, retried database errors; never the connection string.</summary>
public sealed class StoreLogTests : PostgresTest
{
    [PostgresFact]
    public async Task Each_migration_applied_is_logged_once_and_a_second_run_logs_none()
    {
        var logs = new Records();
        var store = await StoreAsync(o => new PostgresStoreOptions { ConnectionString = o.ConnectionString, Schema = o.Schema, MigrateOnOpen = false, LoggerFactory = logs });
        await store.MigrateAsync(CancellationToken.None);
        await store.MigrateAsync(CancellationToken.None);

        var applied = logs.Lines.Where(l => l.EventId == 2004).ToList();
        Assert.Equal(Migrator.Scripts.Select(s => $"Applied migration {s.Version} to schema {Schema}"), applied.Select(l => l.Message));
        Assert.All(applied, l => Assert.Equal(("Tasker.Postgres", LogLevel.Information), (l.Category, l.Level)));
    }

    [PostgresFact]
    public async Task A_retried_connection_failure_is_a_warning_without_the_password()
    {
        var logs = new Records();
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = "tasker-log-retry", LoggerFactory = logs,
        });
        var engine = new Tasker.Core.TaskerEngine(store, new Tasker.Core.TaskerOptions { Time = Clock });
        await engine.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(engine, PgWorkflows.Flat);
        // Kill the pooled connections: the next call finds its connection dead and retries on a new one.
        await TestSql.ScalarAsync<int>(null, """
            SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
            WHERE application_name = 'tasker-log-retry' AND datname = current_database()
            """);

        await engine.ClaimStepsAsync(task);

        var retry = Assert.Single(logs.Lines, l => l.EventId == 2001);
        Assert.Equal(LogLevel.Warning, retry.Level);
        Assert.StartsWith("Database call failed (", retry.Message);
        Assert.DoesNotContain("password", retry.Message, StringComparison.OrdinalIgnoreCase);
    }

    private sealed class Records : ILoggerFactory
    {
        public sealed record Line(string Category, LogLevel Level, int EventId, string Message);

        private readonly List<Line> _lines = [];

        public IReadOnlyList<Line> Lines
        {
            get { lock (_lines) return _lines.ToList(); }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class Logger(Records owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._lines) owner._lines.Add(new Line(category, logLevel, eventId.Id, formatter(state, exception)));
            }
        }
    }
}
