using Tasker.Core.Templates;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

public sealed class TemplateStoreTests : PostgresTest
{
    private const string Rails = """
        name: fulfil
        namespace_name: shop
        version: 2.1.0
        description: Rails-format template
        task_handler_class: FulfilHandler
        module_namespace: Shop
        concurrent: true
        default_dependent_system: warehouse
        named_steps: [validate, charge, ship]
        fail_fast: true
        identity_strategy: strict
        input_schema:
          type: object
          required: [order]
        step_templates:
          - name: validate
            handler_class: ValidateOrder
            handler_config: { strict: true, limits: [1, 2.5], literal: "$${NOT_A_VARIABLE}" }
            default_retry_limit: 5
          - name: charge
            handler_class: Charge
            depends_on_step: validate
            default_retryable: false
            timeout_seconds: 30
            skippable: true
            dependent_system: payments
          - name: ship
            handler_class: Ship
            depends_on_steps: [charge, validate]
        """;

    [PostgresFact]
    public async Task A_template_read_back_by_another_process_equals_the_registered_one()
    {
        var original = TemplateParser.Parse(Rails);
        await (await StoreAsync()).SaveTemplateAsync(original, CancellationToken.None);

        var other = await StoreAsync(); // its own caches: this read comes from the database
        var found = await other.FindTemplateAsync("shop", "fulfil", "2.1.0", CancellationToken.None);

        Assert.NotNull(found);
        Assert.Equal((original.Namespace, original.Name, original.Version, original.Description, original.FailFast, original.IdentityStrategy),
            (found.Namespace, found.Name, found.Version, found.Description, found.FailFast, found.IdentityStrategy));
        Assert.Equal(original.InputSchema!.Value.GetRawText(), found.InputSchema!.Value.GetRawText());
        Assert.Equal((original.Details.ModuleNamespace, original.Details.TaskHandlerClass, original.Details.Concurrent, original.Details.DefaultDependentSystem),
            (found.Details.ModuleNamespace, found.Details.TaskHandlerClass, found.Details.Concurrent, found.Details.DefaultDependentSystem));
        Assert.Equal(["validate", "charge", "ship"], found.Details.NamedSteps);
        Assert.Equal([false, true, false], found.Steps.Select(s => s.Skippable));
        Assert.Equal(["warehouse", "payments", "warehouse"], found.Steps.Select(s => s.DependentSystem));
        // A literal ${...} stays literal: the stored template is not resolved a second time.
        Assert.Equal("${NOT_A_VARIABLE}", found.Steps[0].Initialization!.Value.GetProperty("literal").GetString());
        Assert.NotNull(found.Validator);
        Assert.Equal(original.Steps.Count, found.Steps.Count);
        for (var i = 0; i < original.Steps.Count; i++)
        {
            var (a, b) = (original.Steps[i], found.Steps[i]);
            Assert.Equal((a.Name, a.Handler, a.Retry, a.TimeoutSeconds), (b.Name, b.Handler, b.Retry, b.TimeoutSeconds));
            Assert.Equal(a.Dependencies, b.Dependencies);
            Assert.Equal(a.Initialization?.GetRawText(), b.Initialization?.GetRawText());
            Assert.Equal(original.Graph.ParentsOf(i).ToArray(), found.Graph.ParentsOf(i).ToArray());
        }
        var named = await TestSql.RowsAsync(Schema, "SELECT s.name, s.handler FROM tasker_named_steps s ORDER BY s.step_index");
        Assert.Equal(["validate:ValidateOrder", "charge:Charge", "ship:Ship"], named.Select(r => $"{r[0]}:{r[1]}"));
    }

    [PostgresFact]
    public async Task A_rails_schema_read_back_by_another_process_keeps_its_draft_07_definitions()
    {
        const string text = """
            name: rails_schema
            namespace_name: shop
            version: 1.0.0
            schema:
              type: object
              required: [cart_id]
              properties:
                cart_id: { $ref: "#/definitions/id" }
              definitions:
                id: { type: integer }
            step_templates:
              - name: fetch_cart
                handler_class: FetchCart
            """;
        await (await StoreAsync()).SaveTemplateAsync(TemplateParser.Parse(text), CancellationToken.None);

        var found = await (await StoreAsync()).FindTemplateAsync("shop", "rails_schema", null, CancellationToken.None);

        Assert.Equal("schema", found!.InputSchemaKey);
        found.Validator!.Validate(Tasker.Core.JsonValues.Parse("""{"cart_id": 7}""", "context"), found.Name);
        var e = Assert.Throws<Tasker.Core.TaskerException>(() =>
            found.Validator.Validate(Tasker.Core.JsonValues.Parse("""{"cart_id": "x"}""", "context"), found.Name));
        Assert.Contains("cart_id", e.Message);
    }

    [PostgresFact]
    public async Task Re_registering_a_version_replaces_it_everywhere_and_keeps_one_row()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();
        await a.SaveTemplateAsync(TemplateParser.Parse(PgWorkflows.Flat), CancellationToken.None);
        Assert.Equal(8, (await b.FindTemplateAsync("pg", "flat", null, CancellationToken.None))!.Steps.Count);

        await a.SaveTemplateAsync(TemplateParser.Parse(PgWorkflows.Yaml("flat", ("only", []))), CancellationToken.None);

        Assert.Equal(["only"], (await b.FindTemplateAsync("pg", "flat", null, CancellationToken.None))!.Steps.Select(s => s.Name));
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_named_tasks"));
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_named_steps"));
    }

    [PostgresFact]
    public async Task The_newest_version_follows_semantic_version_order_with_releases_above_their_prereleases()
    {
        var store = await StoreAsync();
        foreach (var version in new[] { "1.10.0-rc.1", "1.9.3", "1.10.0-beta", "1.2.0" })
            await store.SaveTemplateAsync(TemplateParser.Parse(PgWorkflows.Flat.Replace("1.0.0", version, StringComparison.Ordinal)), CancellationToken.None);
        Assert.Equal("1.10.0-rc.1", (await store.FindTemplateAsync("pg", "flat", null, CancellationToken.None))!.Version.ToString());

        await store.SaveTemplateAsync(TemplateParser.Parse(PgWorkflows.Flat.Replace("1.0.0", "1.10.0", StringComparison.Ordinal)), CancellationToken.None);
        Assert.Equal("1.10.0", (await store.FindTemplateAsync("pg", "flat", null, CancellationToken.None))!.Version.ToString());
        Assert.Equal("1.9.3", (await store.FindTemplateAsync("pg", "flat", "1.9.3", CancellationToken.None))!.Version.ToString());
        Assert.Null(await store.FindTemplateAsync("pg", "flat", "3.0.0", CancellationToken.None));
        Assert.Null(await store.FindTemplateAsync("elsewhere", "flat", null, CancellationToken.None));
    }
}
