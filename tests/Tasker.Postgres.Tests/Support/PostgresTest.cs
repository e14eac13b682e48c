using Tasker.Core;
using Xunit;

namespace Tasker.Postgres.Tests.Support;

/// <summary>
/// Base of the PostgreSQL-specific tests: one fresh schema per test, and any number of stores/engines on it (each
/// with its own connection pool, like separate processes would have). Everything is disposed after the test.
/// </summary>
[Collection(PostgresCollection.Name)]
public abstract class PostgresTest : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    protected string Schema { get; } = TestSchemas.Next();

    protected ManualClock Clock { get; } = new();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned.AsEnumerable().Reverse())
            await owned.DisposeAsync();
    }

    protected async Task<PostgresStore> StoreAsync(Func<PostgresStoreOptions, PostgresStoreOptions>? configure = null, string applicationName = "tasker-tests")
    {
        var options = await TestSchemas.NewStoreOptionsAsync(Schema, applicationName);
        var store = await PostgresStore.OpenAsync(configure is null ? options : configure(options));
        _owned.Add(store);
        return store;
    }

    /// <summary>An engine on its own store (own pool). <paramref name="clock"/> defaults to the real clock.</summary>
    protected async Task<(TaskerEngine Engine, PostgresStore Store)> EngineAsync(TimeProvider? clock = null,
        Func<PostgresStoreOptions, PostgresStoreOptions>? configure = null, string applicationName = "tasker-tests", TimeSpan? workAffinity = null)
    {
        var store = await StoreAsync(configure, applicationName);
        var engine = new TaskerEngine(store, new TaskerOptions
        {
            Time = clock ?? TimeProvider.System, Jitter = 0, WorkAffinity = workAffinity ?? new TaskerOptions().WorkAffinity,
        });
        return (engine, store);
    }

    protected static async Task<Guid> CreateAsync(TaskerEngine engine, string template, string? key = null)
    {
        var created = await engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = TemplateNamespace(template), Name = TemplateName(template), IdempotencyKey = key, Initiator = "test",
        });
        return created.Task.TaskUuid;
    }

    protected static string TemplateName(string yaml) => yaml.Split('\n')[0]["name: ".Length..].Trim();

    private static string TemplateNamespace(string yaml) =>
        yaml.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("namespace_name:", StringComparison.Ordinal)) is { } line
            ? line["namespace_name:".Length..].Trim()
            : throw new ArgumentException("the test template has no namespace_name line", nameof(yaml));
}
