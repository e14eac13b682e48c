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

    // Rails Tasker's json-schema gem spoke draft-04: `definitions` with `$ref: '#/definitions/x'`, tuple `items`.
    [Fact]
    public void A_rails_schema_without_dollar_schema_is_draft_07_with_definitions_and_tuple_items()
    {
        const string schema = """
            {"type": "object", "required": ["cart_id"],
             "definitions": {"id": {"type": "integer", "minimum": 1}},
             "properties": {"cart_id": {"$ref": "#/definitions/id"},
                            "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}}}
            """;
        var t = WithSchema(schema, "schema");
        Accepted(t, """{"cart_id": 5, "pair": ["a", 1]}""");
        Assert.Contains("$.cart_id:", Rejected(t, """{"cart_id": 0}"""), StringComparison.Ordinal);
        Assert.Contains("$.pair[1]:", Rejected(t, """{"cart_id": 5, "pair": ["a", "b"]}"""), StringComparison.Ordinal);
        // Still strict: an unknown keyword is refused in draft-07 too.
        var e = Assert.Throws<TaskerException>(() => WithSchema("""{"type": "object", "requried": ["x"]}""", "schema"));
        Assert.Contains("requried", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Input_schema_without_dollar_schema_stays_2020_12()
    {
        var e = Assert.Throws<TaskerException>(() => WithSchema("""{"definitions": {"x": {"type": "integer"}}}"""));
        Assert.Contains("definitions", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://json-schema.org/draft-04/schema#", "schema")]
    [InlineData("http://json-schema.org/draft-04/schema", "input_schema")]
    public void A_draft_04_schema_is_read_as_draft_07_with_exclusive_bounds_translated(string uri, string key)
    {
        var t = WithSchema("""
            {"$schema": "URI", "type": "object",
             "definitions": {"qty": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": false}},
             "properties": {"qty": {"$ref": "#/definitions/qty"},
                            "mode": {"enum": [{"exclusiveMinimum": true}]}}}
            """.Replace("URI", uri, StringComparison.Ordinal), key);
        Accepted(t, """{"qty": 1}""");
        Accepted(t, """{"qty": 10}""");
        Assert.Contains("$.qty:", Rejected(t, """{"qty": 0}"""), StringComparison.Ordinal);
        Assert.Contains("$.qty:", Rejected(t, """{"qty": 11}"""), StringComparison.Ordinal);
        // enum values are data: kept as written.
        Accepted(t, """{"qty": 1, "mode": {"exclusiveMinimum": true}}""");
    }

    [Fact]
    public void A_draft_04_exclusive_flag_without_its_bound_is_a_clear_error()
    {
        var e = Assert.Throws<TaskerException>(() => WithSchema("""
            {"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"n": {"type": "number", "exclusiveMaximum": true}}}
            """, "schema"));
        Assert.Equal("template 't': schema is not a valid JSON Schema: $.properties.n: draft-04 \"exclusiveMaximum\": true needs a numeric \"maximum\" beside it", e.Message);
    }

    // Only schema positions are rewritten: a property named like a keyword is a schema all the same.
    [Fact]
    public void A_draft_04_property_named_like_a_keyword_is_translated_as_a_schema()
    {
        var t = WithSchema("""
            {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
             "definitions": {"enum": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}},
             "properties": {"default": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
                            "minimum": {"$ref": "#/definitions/enum"}}}
            """, "schema");
        Accepted(t, """{"default": 0.5, "minimum": 1}""");
        Assert.Contains("$.default:", Rejected(t, """{"default": 0}"""), StringComparison.Ordinal);
        Assert.Contains("$.minimum:", Rejected(t, """{"minimum": 0}"""), StringComparison.Ordinal);
    }

    [Fact]
    public void A_draft_04_subschema_declaring_its_own_draft_is_read_as_draft_07_too()
    {
        var t = WithSchema("""
            {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
             "properties": {"n": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer", "maximum": 9, "exclusiveMaximum": true}}}
            """, "schema");
        Accepted(t, """{"n": 8}""");
        Assert.Contains("$.n:", Rejected(t, """{"n": 9}"""), StringComparison.Ordinal);
    }

    // A schema that names its draft is as strict as one that does not: a misspelled keyword is refused.
    [Theory]
    [InlineData("https://json-schema.org/draft/2020-12/schema")]
    [InlineData("https://json-schema.org/draft/2019-09/schema")]
    [InlineData("http://json-schema.org/draft-07/schema#")]
    [InlineData("http://json-schema.org/draft-06/schema#")]
    public void A_schema_naming_its_draft_still_refuses_unknown_keywords(string draft)
    {
        var e = Assert.Throws<TaskerException>(() => WithSchema($$"""{"$schema": "{{draft}}", "type": "object", "requried": ["x"]}"""));
        Assert.Contains("requried", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declared_draft_decides_the_keywords_under_either_key()
    {
        var rails2020 = WithSchema("""
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
             "$defs": {"id": {"type": "integer"}}, "properties": {"cart_id": {"$ref": "#/$defs/id"}}}
            """, "schema");
        Assert.Contains("$.cart_id:", Rejected(rails2020, """{"cart_id": "x"}"""), StringComparison.Ordinal);
        var core07 = WithSchema("""
            {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
             "definitions": {"id": {"type": "integer"}}, "properties": {"cart_id": {"$ref": "#/definitions/id"}}}
            """);
        Assert.Contains("$.cart_id:", Rejected(core07, """{"cart_id": "x"}"""), StringComparison.Ordinal);
    }
}

