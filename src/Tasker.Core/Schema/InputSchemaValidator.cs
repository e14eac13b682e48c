using System.Buffers;
using System.Text;
using System.Text.Json;
using Json.Schema;

namespace Tasker.Core.Schema;

/// <summary>
/// A template's <c>input_schema</c> (Rails Tasker: <c>schema</c>), compiled once at registration with JsonSchema.Net:
/// full JSON Schema including <c>pattern</c>,
/// <c>format</c> (enforced, not just annotated), <c>oneOf</c> and local <c>$ref</c>. A keyword the dialect does not
/// know is refused at registration, so a misspelled <c>requried</c> cannot silently validate nothing. Remote
/// <c>$ref</c>s are never fetched. Errors name the offending path (<c>$.order.id</c>) and what was expected.
/// The draft: the schema's <c>$schema</c> if it names one (draft-04, which Rails Tasker's json-schema gem spoke, is
/// read as draft-07: <see cref="Draft04Schema"/>); otherwise draft-07 for the Rails key <c>schema</c> (Rails schemas
/// are draft-04 style: <c>definitions</c>, tuple <c>items</c>, <c>dependencies</c>) and 2020-12 for <c>input_schema</c>.
/// </summary>
internal sealed class InputSchemaValidator
{
    private const int MaxReportedErrors = 10;

    // First: JsonSchema.Net is started before any of the fields below (or Build, or Validate) uses it.
    private static readonly bool LibraryStarted = JsonSchemaLibrary.Start();

    // Unknown keywords are errors rather than annotations: the one difference from JSON Schema's defaults.
    private static readonly Dialect Strict = Dialect.Draft202012.With([], allowUnknownKeywords: false);
    private static readonly Dialect StrictDraft07 = Dialect.Draft07.With([], allowUnknownKeywords: false);

    // A draft a schema names in $schema, strict too. JsonSchema.Net will not replace its official (lenient) dialects
    // in a registry, so a declared draft is taken off the root and applied as the build's dialect instead. Keyed by
    // the meta-schema address without scheme and trailing '#', so http/https and '#' spellings all match.
    private static readonly Dictionary<string, Dialect> StrictDrafts = new(StringComparer.Ordinal)
    {
        ["json-schema.org/draft/2020-12/schema"] = Strict,
        ["json-schema.org/draft/2019-09/schema"] = Dialect.Draft201909.With([], allowUnknownKeywords: false),
        ["json-schema.org/draft-07/schema"] = StrictDraft07,
        ["json-schema.org/draft-06/schema"] = Dialect.Draft06.With([], allowUnknownKeywords: false),
    };

    /// <summary>The Rails Tasker spelling of <c>input_schema</c>, whose schemas are draft-04 style.</summary>
    public const string RailsKey = "schema";

    // The valid case, every create, asks only for a yes/no (JsonSchema.Net stops at the first failure); an invalid
    // context is evaluated again for the full list of violations.
    private static readonly EvaluationOptions Check = new()
    {
        OutputFormat = OutputFormat.Flag,
        RequireFormatValidation = true,
    };

    private static readonly EvaluationOptions Explain = new()
    {
        OutputFormat = OutputFormat.List,
        RequireFormatValidation = true,
    };

    // Explicit, so the type is not beforefieldinit: its static fields (and so the library's start) are set before
    // Build runs, not merely before a field is first read.
    static InputSchemaValidator()
    {
        GC.KeepAlive(LibraryStarted);
    }

    private readonly JsonSchema _schema;
    private readonly string _key;

    /// <summary>The template key the schema came from (<c>input_schema</c> or <c>schema</c>).</summary>
    public string Key => _key;

    private InputSchemaValidator(JsonSchema schema, string key)
    {
        _schema = schema;
        _key = key;
    }

    public static InputSchemaValidator Build(JsonElement schema, string template, string key)
    {
        // JsonSchema.Net reads its keywords' [DependsOnAnnotationsFrom] attributes into an array of that attribute
        // type. Under NativeAOT an array type the compiler did not see is built at run time in native memory that
        // is never freed (valgrind: 8 bytes "definitely lost"); naming the type here makes the compiler emit it.
        GC.KeepAlive(Array.Empty<DependsOnAnnotationsFromAttribute>());
        if (FindRemoteRef(schema) is { } remote)
            throw new TaskerException(TaskerErrorCode.InvalidArgument,
                $"template '{template}': {key} refers to '{(remote.Length > 64 ? remote[..64] + "..." : remote)}'; only local $refs (#/...) are supported, remote schemas are never fetched",
                new Dictionary<string, string> { ["field"] = key, ["template"] = template });
        var dialect = key == RailsKey ? StrictDraft07 : Strict;
        if (Draft04Schema.Declares(schema))
        {
            schema = Draft04Schema.ToDraft07(schema, out var problem);
            if (problem is not null)
                throw new TaskerException(TaskerErrorCode.InvalidArgument, $"template '{template}': {key} is not a valid JSON Schema: {problem}",
                    new Dictionary<string, string> { ["field"] = key, ["template"] = template });
            dialect = StrictDraft07;
        }
        else if (DeclaredDraft(schema) is { } declared)
        {
            dialect = declared;
            schema = WithoutDeclaredDraft(schema);
        }
        try
        {
            // A registry per schema: nothing leaks into JsonSchema.Net's global registry between templates, and a
            // $ref can only reach this schema's own definitions.
            var options = new BuildOptions { Dialect = dialect, SchemaRegistry = new SchemaRegistry() };
            var compiled = JsonSchema.Build(schema, options, new Uri($"urn:tasker:template:{Uri.EscapeDataString(template)}"));
            return new InputSchemaValidator(compiled, key);
        }
        catch (Exception e) when (e is JsonSchemaException or JsonException or ArgumentException or InvalidOperationException or RefResolutionException)
        {
            throw new TaskerException(TaskerErrorCode.InvalidArgument, $"template '{template}': {key} is not a valid JSON Schema: {e.Message}",
                new Dictionary<string, string> { ["field"] = key, ["template"] = template });
        }
    }

    private static Dialect? DeclaredDraft(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("$schema", out var declared) || declared.ValueKind != JsonValueKind.String)
            return null;
        var uri = declared.GetString()!.TrimEnd('#');
        uri = uri.StartsWith("https://", StringComparison.Ordinal) ? uri[8..] : uri.StartsWith("http://", StringComparison.Ordinal) ? uri[7..] : uri;
        return StrictDrafts.GetValueOrDefault(uri);
    }

    private static JsonElement WithoutDeclaredDraft(JsonElement schema)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in schema.EnumerateObject())
                if (property.Name != "$schema")
                    property.WriteTo(writer);
            writer.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    public void Validate(JsonElement context, string template)
    {
        EvaluationResults results;
        try
        {
            if (_schema.Evaluate(context, Check).IsValid) return;
            results = _schema.Evaluate(context, Explain);
        }
        catch (RefResolutionException e)
        {
            throw new TaskerException(TaskerErrorCode.InvalidArgument, $"the {_key} of '{template}' has a $ref that does not resolve: {e.Message}",
                new Dictionary<string, string> { ["field"] = _key });
        }
        if (results.IsValid) return;
        var errors = new List<string>();
        foreach (var detail in results.Details ?? [])
        {
            if (detail.Errors is null) continue;
            foreach (var (keyword, message) in detail.Errors)
            {
                if (errors.Count == MaxReportedErrors) break;
                errors.Add($"{Path(detail.InstanceLocation.ToString())}: {message} ({keyword})");
            }
        }
        if (errors.Count == 0 && results.Errors is { } top)
            errors.AddRange(top.Select(e => $"$: {e.Value} ({e.Key})"));
        var joined = string.Join("; ", errors.Distinct());
        throw new TaskerException(TaskerErrorCode.InvalidArgument,
            $"context does not match the {_key} of '{template}': {joined}",
            new Dictionary<string, string> { ["field"] = "context", ["schema_errors"] = joined });
    }

    /// <summary>The first <c>$ref</c> that does not point into this schema (<c>#...</c>), if any.</summary>
    private static string? FindRemoteRef(JsonElement node)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in node.EnumerateObject())
                {
                    if (property.Name is "$ref" or "$dynamicRef" && property.Value.ValueKind == JsonValueKind.String
                        && !property.Value.GetString()!.StartsWith('#'))
                        return property.Value.GetString();
                    if (FindRemoteRef(property.Value) is { } found) return found;
                }
                return null;
            case JsonValueKind.Array:
                foreach (var item in node.EnumerateArray())
                    if (FindRemoteRef(item) is { } found) return found;
                return null;
            default:
                return null;
        }
    }

    /// <summary>JSON Pointer (<c>/order/items/0</c>) to the path notation of our other messages (<c>$.order.items[0]</c>).</summary>
    private static string Path(string pointer)
    {
        var path = new StringBuilder("$");
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (segment.All(char.IsAsciiDigit)) path.Append('[').Append(segment).Append(']');
            else path.Append('.').Append(segment);
        }
        return path.ToString();
    }
}
