using Tasker.Core.Templates;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.TemplateTests;

public sealed class TemplateParserTests
{
    private static TaskerException Rejects(TaskerErrorCode code, string text)
    {
        var e = Assert.Throws<TaskerException>(() => TemplateParser.Parse(text));
        Assert.Equal(code, e.Code);
        return e;
    }

    [Fact]
    public void Core_format_yaml_loads_steps_handlers_dependencies_and_retry_settings()
    {
        var template = TemplateParser.Parse("""
            name: order_fulfillment
            namespace_name: fulfillment
            version: 1.2.3
            description: Fulfil an order
            fail_fast: true
            steps:
              - name: validate
                handler:
                  callable: ValidateOrder
                  initialization: { strict: true }
              - name: ship
                handler: { callable: ShipOrder }
                depends_on: validate
                retry: { retryable: false, max_attempts: 5, backoff_base_seconds: 2, max_backoff_seconds: 30 }
                timeout_seconds: 60
            """);

        Assert.Equal(("fulfillment", "order_fulfillment", "1.2.3", true), (template.Namespace, template.Name, template.Version.ToString(), template.FailFast));
        var ship = template.Steps[1];
        Assert.Equal(("ShipOrder", false, 5, 2.0, 30.0, 60), (ship.Handler, ship.Retry.Retryable, ship.Retry.MaxAttempts, ship.Retry.BackoffBaseSeconds, ship.Retry.MaxBackoffSeconds, ship.TimeoutSeconds));
        Assert.Equal(["validate"], ship.Dependencies);
        Assert.True(template.Steps[0].Initialization!.Value.GetProperty("strict").GetBoolean());
        Assert.Equal([0], template.Graph.ParentsOf(1).ToArray());
    }

    [Fact]
    public void Json_templates_load_like_yaml()
    {
        var template = TemplateParser.Parse("""
            {"name": "j", "namespace_name": "n", "version": "2.0.0",
             "steps": [{"name": "a", "handler": {"callable": "A"}}, {"name": "b", "handler": {"callable": "B"}, "dependencies": ["a"]}]}
            """);
        Assert.Equal(2, template.Steps.Count);
        Assert.Equal(1, template.Graph.EdgeCount);
    }

    [Fact]
    public void Rails_tasker_step_templates_load_unchanged()
    {
        var template = TemplateParser.Parse("""
            ---
            name: api_task/integration_example
            namespace_name: api_tests
            version: 0.1.0
            task_handler_class: ApiTask::IntegrationExample
            step_templates:
              - name: fetch_cart
                handler_class: ApiTask::StepHandler::CartFetchStepHandler
                handler_config: { type: api, url: https://example.com/cart }
              - name: fetch_products
                handler_class: ApiTask::StepHandler::ProductsFetchStepHandler
              - name: validate_products
                depends_on_steps: [fetch_products, fetch_cart]
                handler_class: ApiTask::StepHandler::ProductsValidateStepHandler
                default_retryable: true
                default_retry_limit: 4
              - name: publish_event
                depends_on_step: validate_products
                handler_class: ApiTask::StepHandler::PublishEventStepHandler
                default_retryable: false
            """.Replace("api_task/integration_example", "integration_example", StringComparison.Ordinal));

        Assert.Equal(4, template.Steps.Count);
        var validate = template.Steps[2];
        Assert.Equal(("ApiTask::StepHandler::ProductsValidateStepHandler", 4), (validate.Handler, validate.Retry.MaxAttempts));
        Assert.Equal(["fetch_products", "fetch_cart"], validate.Dependencies);
        Assert.False(template.Steps[3].Retry.Retryable);
        Assert.Equal("api", template.Steps[0].Initialization!.Value.GetProperty("type").GetString());
    }

    [Fact]
    public void Duplicate_step_names_are_rejected_by_name()
    {
        var e = Rejects(TaskerErrorCode.InvalidDag, Workflows.Yaml("dup", ("a", []), ("b", []), ("a", [])));
        Assert.Contains("duplicate step names: a", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_dependencies_are_rejected_naming_step_and_dependency()
    {
        var e = Rejects(TaskerErrorCode.InvalidDag, Workflows.Yaml("unk", ("a", []), ("b", ["ghost"])));
        Assert.Contains("'b' depends on unknown step 'ghost'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cycle_is_rejected_and_named()
    {
        var e = Rejects(TaskerErrorCode.InvalidDag, Workflows.Yaml("cyc", ("start", []), ("a", ["start", "c"]), ("b", ["a"]), ("c", ["b"])));
        Assert.Contains("cycle", e.Message, StringComparison.Ordinal);
        var cycle = e.Details["cycle"].Split(" -> ");
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(["a", "b", "c"], cycle[..^1].Order());
    }

    [Fact]
    public void A_self_dependency_is_a_cycle()
    {
        var e = Rejects(TaskerErrorCode.InvalidDag, Workflows.Yaml("self", ("a", ["a"])));
        Assert.Equal("a -> a", e.Details["cycle"]);
    }

    [Fact]
    public void Redundant_transitive_edges_are_legal()
    {
        var template = TemplateParser.Parse(Workflows.OrderFulfillment);
        Assert.Equal(6, template.Graph.EdgeCount);
    }

    [Theory]
    [InlineData("name: e\nnamespace_name: n\nversion: 1.0.0\nsteps: []\n")]
    [InlineData("name: e\nnamespace_name: n\nversion: 1.0.0\n")]
    public void Templates_without_steps_are_rejected(string yaml) =>
        Assert.Contains("no steps", Rejects(TaskerErrorCode.InvalidDag, yaml).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("1.0")]
    [InlineData("v1.0.0")]
    [InlineData("abc")]
    [InlineData("01.0.0")]
    public void Bad_versions_are_rejected(string version) =>
        Assert.Contains("bad template version", Rejects(TaskerErrorCode.InvalidArgument,
            $"name: v\nnamespace_name: n\nversion: \"{version}\"\nsteps:\n  - name: a\n    handler: {{ callable: A }}\n").Message, StringComparison.Ordinal);

    [Fact]
    public void A_template_without_a_version_is_0_1_0_as_in_rails_tasker()
    {
        var template = TemplateParser.Parse("name: nv\nsteps:\n  - name: a\n    handler: { callable: A }\n");
        Assert.Equal("0.1.0", template.Version.ToString());
        Assert.Equal("default/nv@0.1.0", template.Key);
        Assert.Contains("bad template version ''", Rejects(TaskerErrorCode.InvalidArgument,
            "name: nv\nversion: \"\"\nsteps:\n  - name: a\n    handler: { callable: A }\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_yaml_reports_the_line()
    {
        var e = Rejects(TaskerErrorCode.InvalidArgument, "name: x\nsteps:\n  - name: [unclosed\n");
        Assert.Contains("not valid YAML", e.Message, StringComparison.Ordinal);
        Assert.True(int.Parse(e.Details["line"], System.Globalization.CultureInfo.InvariantCulture) >= 3);
    }

    [Fact]
    public void Malformed_json_is_invalid_json() =>
        Rejects(TaskerErrorCode.InvalidJson, "{\"name\": \"x\", \"steps\": [");

    [Fact]
    public void A_yaml_alias_bomb_is_rejected_instead_of_expanded()
    {
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i < 9; i++)
            lines.Add($"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]");
        Assert.Contains("more than", Rejects(TaskerErrorCode.InvalidArgument, string.Join('\n', lines)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_handlers_and_bad_field_types_name_the_step()
    {
        Assert.Contains("step 'a': handler", Rejects(TaskerErrorCode.InvalidArgument,
            "name: h\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n").Message, StringComparison.Ordinal);
        Assert.Contains("max_attempts", Rejects(TaskerErrorCode.InvalidArgument,
            "name: h\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n    retry: { max_attempts: many }\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Versions_order_semantically_with_releases_above_prereleases()
    {
        var ordered = new[] { "1.10.0", "1.2.0", "1.0.0-beta", "1.0.0", "0.9.9" }.Select(TemplateVersion.Parse).Order().Select(v => v.ToString());
        Assert.Equal(["0.9.9", "1.0.0-beta", "1.0.0", "1.2.0", "1.10.0"], ordered);
    }
}
