using Tasker.Core;
using Tasker.Core.Templates;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// A process keeps the templates its creates looked up (a create is then its insert alone), and its insert checks the
/// template's fingerprint: a template another process changed since is looked up again, never used.
/// </summary>
public sealed class TemplateCacheTests : PostgresTest
{
    private static readonly string First = PgWorkflows.Yaml("cached", ("first", []));
    private static readonly string Replaced = PgWorkflows.Yaml("cached", ("replaced", []));

    [PostgresFact]
    public async Task A_create_from_a_template_this_process_looked_up_before_is_one_statement()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(First);
        await CreateAsync(engine, First);

        var before = store.Statistics;
        await CreateAsync(engine, First);

        Assert.Equal((1L, 1L), (store.Statistics.Since(before).Statements, store.Statistics.Since(before).RoundTrips));
    }

    [PostgresFact]
    public async Task A_create_after_another_process_re_registered_the_template_makes_the_task_from_the_new_one()
    {
        var (engine, _) = await EngineAsync();
        await engine.RegisterTemplateAsync(First);
        await CreateAsync(engine, First); // this process now knows the first definition
        var (other, _) = await EngineAsync();

        await other.RegisterTemplateAsync(Replaced);
        var task = await engine.GetTaskAsync(await CreateAsync(engine, First));

        Assert.Equal(["replaced"], task.Steps.Select(s => s.Name));
        Assert.Equal(2, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_tasks"));
    }

    [PostgresFact]
    public async Task A_create_after_another_process_registered_a_newer_version_uses_the_newer_version()
    {
        var (engine, _) = await EngineAsync();
        await engine.RegisterTemplateAsync(First);
        await CreateAsync(engine, First);
        var (other, _) = await EngineAsync();

        await other.RegisterTemplateAsync(Replaced.Replace("version: 1.0.0", "version: 1.1.0", StringComparison.Ordinal));
        var task = await engine.GetTaskAsync(await CreateAsync(engine, First));

        Assert.Equal(("1.1.0", "replaced"), (task.Header.Version, task.Steps.Single().Name));
    }

    [PostgresFact]
    public async Task A_create_from_an_explicit_version_still_gets_that_version_after_a_newer_one_appears_elsewhere()
    {
        var (engine, _) = await EngineAsync();
        await engine.RegisterTemplateAsync(First);
        var request = new TaskRequest { Namespace = "pg", Name = "cached", Version = "1.0.0", Initiator = "test" };
        await engine.CreateTaskAsync(request);
        var (other, _) = await EngineAsync();

        await other.RegisterTemplateAsync(Replaced.Replace("version: 1.0.0", "version: 2.0.0", StringComparison.Ordinal));
        var created = await engine.CreateTaskAsync(request);

        Assert.Equal(("1.0.0", "first"), (created.Task.Header.Version, created.Task.Steps.Single().Name));
    }

    [PostgresFact]
    public async Task Re_registering_in_this_process_is_seen_by_its_next_create_without_a_refused_insert()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(First);
        await CreateAsync(engine, First);

        await engine.RegisterTemplateAsync(Replaced);
        var before = store.Statistics;
        var uuid = await CreateAsync(engine, First);
        var cost = store.Statistics.Since(before);

        Assert.Equal(["replaced"], (await engine.GetTaskAsync(uuid)).Steps.Select(s => s.Name));
        // The template looked up (its versions, then the new source to parse) and one insert: none refused.
        Assert.Equal(3L, cost.Statements);
    }

    [PostgresFact]
    public async Task A_lookup_outside_a_create_reads_what_the_database_has_now()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();
        await a.SaveTemplateAsync(TemplateParser.Parse(First), CancellationToken.None);
        Assert.NotNull(await b.FindTemplateToCreateAsync("pg", "cached", null, CancellationToken.None)); // b now keeps it

        await a.SaveTemplateAsync(TemplateParser.Parse(Replaced), CancellationToken.None);

        Assert.Equal(["replaced"], (await b.FindTemplateAsync("pg", "cached", null, CancellationToken.None))!.Steps.Select(s => s.Name));
    }
}
