using Tasker.Core.Templates;
using Xunit;

namespace Tasker.Core.Tests.TemplateTests;

/// <summary>Rails Tasker templates: what they declare loads, is checked, and is kept; nothing is silently dropped.</summary>
public sealed class RailsTemplateTests
{
    /// <summary>
    /// Shaped like Rails Tasker's own YAML example (spec/dummy/config/tasker/tasks/api_task/...), written anew: a
    /// slash in the name, schema:, environments: with a ${VAR}, default_dependent_system and named_steps.
    /// </summary>
    internal const string CheckoutTemplate = """
        ---
        name: shop_task/checkout_example
        module_namespace: ShopTask
        task_handler_class: CheckoutExample
        concurrent: true
        namespace_name: shop
        version: 0.2.0
        description: Checks out a basket
        default_dependent_system: storefront

        named_steps: [load_basket, load_items, check_items, place_order, announce_order]

        schema:
          type: object
          required: [basket_id]
          properties:
            basket_id: { type: integer }

        step_templates:
          - name: load_basket
            description: Load the basket
            handler_class: ShopTask::StepHandler::LoadBasket
            handler_config:
              type: api
              url: https://shop.example/basket
              params: { page: 1 }
          - name: load_items
            description: Load the items
            handler_class: ShopTask::StepHandler::LoadItems
            dependent_system: catalog
            handler_config:
              type: api
              url: https://shop.example/items
          - name: check_items
            handler_class: ShopTask::StepHandler::CheckItems
            depends_on_steps: [load_items, load_basket]
          - name: place_order
            handler_class: ShopTask::StepHandler::PlaceOrder
            depends_on_step: check_items
          - name: announce_order
            handler_class: ShopTask::StepHandler::AnnounceOrder
            depends_on_step: place_order
            skippable: true

        environments:
          development:
            step_templates:
              - name: load_basket
                handler_config:
                  url: http://localhost:3000/basket
                  params: { verbose: true }
          production:
            step_templates:
              - name: load_basket
                handler_config:
                  params:
                    token: ${SHOP_API_TOKEN}
              - name: load_items
                handler_config:
                  headers: { Authorization: "Bearer ${SHOP_API_TOKEN}" }
        """;

    private static TaskTemplate Parse(string text, string? environment = null, IDictionary<string, string>? variables = null) =>
        TemplateParser.Parse(text, new TemplateParseOptions
        {
            Environment = environment,
            Variables = name => variables is not null && variables.TryGetValue(name, out var v) ? v : null,
        });

    private static TaskerException Rejects(string text, string? environment = null) =>
        Assert.Throws<TaskerException>(() => Parse(text, environment));

    [Fact]
    public void The_checkout_example_loads_with_its_slash_name_descriptive_keys_and_dependencies()
    {
        var t = Parse(CheckoutTemplate);
        Assert.Equal(("shop", "shop_task/checkout_example", "0.2.0"), (t.Namespace, t.Name, t.Version.ToString()));
        Assert.Equal(("ShopTask", "CheckoutExample", true, "storefront"),
            (t.Details.ModuleNamespace, t.Details.TaskHandlerClass, t.Details.Concurrent, t.Details.DefaultDependentSystem));
        Assert.Equal(["load_basket", "load_items", "check_items", "place_order", "announce_order"], t.Details.NamedSteps);
        Assert.Equal(["storefront", "catalog", "storefront", "storefront", "storefront"], t.Steps.Select(s => s.DependentSystem));
        Assert.Equal([false, false, false, false, true], t.Steps.Select(s => s.Skippable));
        Assert.Equal(["load_items", "load_basket"], t.Steps[2].Dependencies);
        Assert.NotNull(t.InputSchema);
        Assert.Null(t.Details.Environment);
        Assert.Equal("https://shop.example/basket", t.Steps[0].Initialization!.Value.GetProperty("url").GetString());
    }

    [Fact]
    public void A_template_without_namespace_name_gets_the_default_namespace()
    {
        var t = Parse("name: a/b\nversion: 1.0.0\nstep_templates:\n  - name: s\n    handler_class: S\n");
        Assert.Equal(("default", "a/b"), (t.Namespace, t.Name));
    }

    [Theory]
    [InlineData("/leading")]
    [InlineData("trailing/")]
    [InlineData("double//slash")]
    [InlineData("space in/name")]
    public void Malformed_names_are_refused(string name)
    {
        var e = Rejects($"name: \"{name}\"\nversion: 1.0.0\nstep_templates:\n  - name: s\n    handler_class: S\n");
        Assert.Contains("must be 1-128 characters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_engine_environment_deep_merges_its_overrides_into_handler_config()
    {
        var t = Parse(CheckoutTemplate, "development");
        var config = t.Steps[0].Initialization!.Value;
        Assert.Equal("development", t.Details.Environment);
        Assert.Equal("api", config.GetProperty("type").GetString()); // kept from the base
        Assert.Equal("http://localhost:3000/basket", config.GetProperty("url").GetString()); // replaced
        Assert.Equal(1, config.GetProperty("params").GetProperty("page").GetInt32()); // merged, not replaced
        Assert.True(config.GetProperty("params").GetProperty("verbose").GetBoolean());
        Assert.Equal("https://shop.example/items", t.Steps[1].Initialization!.Value.GetProperty("url").GetString());
    }

    [Fact]
    public void An_environment_without_overrides_changes_nothing_and_needs_no_variables()
    {
        var t = Parse(CheckoutTemplate, "staging");
        Assert.Equal("https://shop.example/basket", t.Steps[0].Initialization!.Value.GetProperty("url").GetString());
        Assert.Null(t.Details.Environment);
    }

    [Fact]
    public void Placeholders_are_filled_from_the_environment_at_registration()
    {
        var t = Parse(CheckoutTemplate, "production", new Dictionary<string, string> { ["SHOP_API_TOKEN"] = "s3cret-value" });
        Assert.Equal("s3cret-value", t.Steps[0].Initialization!.Value.GetProperty("params").GetProperty("token").GetString());
        Assert.Equal("Bearer s3cret-value", t.Steps[1].Initialization!.Value.GetProperty("headers").GetProperty("Authorization").GetString());
    }

    [Fact]
    public void A_missing_variable_is_an_error_naming_it_and_where_it_is_used()
    {
        var e = Rejects(CheckoutTemplate, "production");
        Assert.Equal(TaskerErrorCode.InvalidArgument, e.Code);
        Assert.Contains("environment variable SHOP_API_TOKEN is not set", e.Message, StringComparison.Ordinal);
        Assert.Contains("step_templates[0].handler_config.params.token", e.Message, StringComparison.Ordinal);
        Assert.Contains("environment 'production'", e.Message, StringComparison.Ordinal);
        Assert.Equal("SHOP_API_TOKEN", e.Details["variable"]);
    }

    [Fact]
    public void Filled_values_never_appear_in_errors()
    {
        // The secret is filled, then a later check fails: its message must not carry the value.
        var text = CheckoutTemplate.Replace("named_steps: [load_basket,", "named_steps: [load_basketz,", StringComparison.Ordinal);
        var e = Assert.Throws<TaskerException>(() => Parse(text, "production", new Dictionary<string, string> { ["SHOP_API_TOKEN"] = "s3cret-value" }));
        Assert.DoesNotContain("s3cret", e.Message + string.Join(",", e.Details.Values), StringComparison.Ordinal);
        Assert.Contains("named but not declared: load_basketz", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_doubled_dollar_keeps_a_literal_placeholder()
    {
        var t = Parse("name: p\nversion: 1.0.0\nstep_templates:\n  - name: s\n    handler_class: S\n    handler_config: { x: \"$${NOT_FILLED}\" }\n");
        Assert.Equal("${NOT_FILLED}", t.Steps[0].Initialization!.Value.GetProperty("x").GetString());
    }

    [Fact]
    public void Environment_overrides_must_name_declared_steps_and_known_keys()
    {
        var unknownStep = CheckoutTemplate.Replace("      - name: load_basket\n                handler_config:\n                  url: http://localhost",
            "      - name: load_baskett\n                handler_config:\n                  url: http://localhost", StringComparison.Ordinal);
        // The YAML above is indented by the raw string; replace on the exact text instead.
        var text = CheckoutTemplate.Replace("development:\n    step_templates:\n      - name: load_basket",
            "development:\n    step_templates:\n      - name: load_baskett", StringComparison.Ordinal);
        Assert.NotEqual(CheckoutTemplate, text);
        Assert.Contains("overrides step 'load_baskett', which the template does not declare", Rejects(text).Message, StringComparison.Ordinal);

        var typo = CheckoutTemplate.Replace("      - name: load_basket\n        handler_config:\n          url: http://localhost",
            "      - name: load_basket\n        handler_confg:\n          url: http://localhost", StringComparison.Ordinal);
        Assert.NotEqual(CheckoutTemplate, typo);
        Assert.Contains("unknown key `handler_confg` in environments.development.step_templates[0] (did you mean `handler_config`?)",
            Rejects(typo).Message, StringComparison.Ordinal);
        _ = unknownStep;
    }

    [Theory]
    [InlineData("name: t\nversion: 1.0.0\nnamespace_nmae: x\nsteps:\n  - name: a\n    handler: A\n", "namespace_nmae", "the template", "namespace_name")]
    [InlineData("name: t\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: A\n  - name: b\n    handler: B\n    dependecies: [a]\n", "dependecies", "step 'b'", "dependencies")]
    [InlineData("name: t\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A, initialisation: {} }\n", "initialisation", "step 'a' handler", "initialization")]
    [InlineData("name: t\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: A\n    retry: { max_attempt: 2 }\n", "max_attempt", "step 'a' retry", "max_attempts")]
    [InlineData("name: t\nversion: 1.0.0\nstep_templates:\n  - name: a\n    handler_class: A\n    depends_on_stpe: b\n", "depends_on_stpe", "step 'a'", "depends_on_step")]
    [InlineData("name: t\nversion: 1.0.0\nstep_templates:\n  - name: a\n    handler_class: A\n    default_retry_limt: 2\n", "default_retry_limt", "step 'a'", "default_retry_limit")]
    [InlineData("name: t\nversion: 1.0.0\nshcema: {}\nstep_templates:\n  - name: a\n    handler_class: A\n", "shcema", "the template", "schema")]
    [InlineData("name: t\nversion: 1.0.0\nstep_templates:\n  - name: a\n    handler_class: A\nenvironments:\n  test:\n    step_template: []\n", "step_template", "environments.test", "step_templates")]
    public void Unknown_keys_are_errors_naming_the_key_and_the_closest_known_one(string text, string key, string where, string suggestion)
    {
        var e = Rejects(text);
        Assert.Equal(TaskerErrorCode.InvalidArgument, e.Code);
        Assert.Contains($"unknown key `{key}` in {where} (did you mean `{suggestion}`?)", e.Message, StringComparison.Ordinal);
        Assert.Equal(key, e.Details["field"]);
        Assert.Equal(suggestion, e.Details["suggestion"]);
    }

    [Fact]
    public void An_unknown_key_with_no_near_match_lists_the_known_keys()
    {
        var e = Rejects("name: t\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A, zzz: 1 }\n");
        Assert.Contains("unknown key `zzz` in step 'a' handler (known keys: callable, initialization)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Named_steps_must_agree_with_the_steps()
    {
        var e = Rejects("name: t\nversion: 1.0.0\nnamed_steps: [a, c]\nstep_templates:\n  - name: a\n    handler_class: A\n  - name: b\n    handler_class: B\n");
        Assert.Contains("named but not declared: c; declared but not named: b", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mixing_formats_or_aliases_is_refused()
    {
        Assert.Contains("both 'steps' and 'step_templates'", Rejects(
            "name: t\nversion: 1.0.0\nsteps: []\nstep_templates:\n  - name: a\n    handler_class: A\n").Message, StringComparison.Ordinal);
        Assert.Contains("both 'input_schema' and 'schema'", Rejects(
            "name: t\nversion: 1.0.0\nschema: {}\ninput_schema: {}\nstep_templates:\n  - name: a\n    handler_class: A\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Versions_follow_semver_precedence_with_numeric_prerelease_identifiers_and_build_metadata()
    {
        var ordered = new[] { "1.0.0", "1.0.0-beta.10", "1.0.0-beta.2", "1.0.0-alpha", "1.0.0-beta", "1.0.0-rc.1", "0.9.0+build.7" }
            .Select(TemplateVersion.Parse).Order().Select(v => v.ToString());
        Assert.Equal(["0.9.0+build.7", "1.0.0-alpha", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.10", "1.0.0-rc.1", "1.0.0"], ordered);
        Assert.Equal("build.5", TemplateVersion.Parse("1.0.0+build.5").Metadata);
        Assert.Equal(0, TemplateVersion.Parse("1.0.0+a").CompareTo(TemplateVersion.Parse("1.0.0+a")));
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("01.0.0")]
    [InlineData("1.0.0-")]
    [InlineData("1.0.0-beta..1")]
    [InlineData("v1.0.0")]
    public void Malformed_versions_are_refused(string version)
    {
        var e = Assert.Throws<TaskerException>(() => TemplateVersion.Parse(version));
        Assert.Contains("expected a semantic version", e.Message, StringComparison.Ordinal);
    }
}
