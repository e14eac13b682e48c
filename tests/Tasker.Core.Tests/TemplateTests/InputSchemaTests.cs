using Tasker.Core.Templates;
using Xunit;

namespace Tasker.Core.Tests.TemplateTests;

/// <summary>input_schema / schema: full JSON Schema (JsonSchema.Net), errors that name the path, typos refused.</summary>
public sealed class InputSchemaTests
{
    private static TaskTemplate WithSchema(string schemaJson, string key = "input_schema") =>
        TemplateParser.Parse($$"""{"name": "t", "version": "1.0.0", "{{key}}": {{schemaJson}}, "steps": [{"name": "a", "handler": "A"}]}""");

    private static string Rejected(TaskTemplate template, string context)
    {
        var e = Assert.Throws<TaskerException>(() => template.Validator!.Validate(JsonValues.Parse(context, "c"), template.Key));
        Assert.Equal(TaskerErrorCode.InvalidArgument, e.Code);
        return e.Message;
    }

    private static void Accepted(TaskTemplate template, string context) => template.Validator!.Validate(JsonValues.Parse(context, "c"), template.Key);

    [Fact]
    public void Rails_schema_key_validates_like_input_schema_and_names_the_path()
    {
        var t = WithSchema("""{"type": "object", "required": ["cart_id"], "properties": {"cart_id": {"type": "integer"}}}""", "schema");
        var message = Rejected(t, """{"cart_id": "x"}""");
        Assert.Contains("context does not match the schema of 'default/t@1.0.0'", message, StringComparison.Ordinal);
        Assert.Contains("$.cart_id:", message, StringComparison.Ordinal);
        Assert.EndsWith("$.cart_id: Value is \"string\" but should be \"integer\" (type)", message, StringComparison.Ordinal);
        Assert.Contains("(required)", Rejected(t, "{}"), StringComparison.Ordinal);
        Accepted(t, """{"cart_id": 5}""");
    }

    [Fact]
    public void Pattern_format_oneOf_and_local_refs_are_enforced()
    {
        var t = WithSchema("""
            {"type": "object",
             "$defs": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"}},
             "properties": {
               "email": {"type": "string", "format": "email"},
               "items": {"type": "array", "items": {"$ref": "#/$defs/sku"}},
               "payment": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}
            """);
        Accepted(t, """{"email": "a@example.com", "items": ["ABC-1"], "payment": 3}""");
        Assert.Contains("$.email:", Rejected(t, """{"email": "not an email"}"""), StringComparison.Ordinal);
        Assert.Contains("$.items[1]:", Rejected(t, """{"items": ["ABC-1", "abc"]}"""), StringComparison.Ordinal);
        Assert.Contains("$.payment:", Rejected(t, """{"payment": 1.5}"""), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_schema_keyword_is_refused_at_registration()
    {
        var e = Assert.Throws<TaskerException>(() => WithSchema("""{"type": "object", "requried": ["x"]}"""));
        Assert.Contains("input_schema is not a valid JSON Schema", e.Message, StringComparison.Ordinal);
        Assert.Contains("requried", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_remote_ref_is_refused_at_registration_and_never_fetched()
    {
        var e = Assert.Throws<TaskerException>(() => WithSchema("""{"properties": {"a": {"$ref": "https://example.invalid/schema.json"}}}"""));
        Assert.Contains("only local $refs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_local_ref_that_does_not_resolve_is_a_clear_error()
    {
        var t = WithSchema("""{"properties": {"a": {"$ref": "#/$defs/missing"}}}""");
        var message = Rejected(t, """{"a": 1}""");
        Assert.Contains("has a $ref that does not resolve", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Messages_read_well()
    {
        var t = WithSchema("""{"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}}""");
        var message = Rejected(t, """{"n": 1}""");
        Assert.Equal("context does not match the input_schema of 'default/t@1.0.0': $.n: 1 should be at least 3 (minimum)", message);
    }
}
