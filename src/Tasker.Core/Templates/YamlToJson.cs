using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tasker.Core.Templates;

/// <summary>
/// Converts a YAML document to JSON using YamlDotNet's representation model (no reflection, so it works under
/// NativeAOT). Plain scalars follow the YAML 1.2 core schema (null, booleans, numbers); quoted scalars stay strings.
/// Node count and depth are bounded so alias bombs ("billion laughs") are rejected instead of expanded.
/// </summary>
internal static partial class YamlToJson
{
    private const int MaxNodes = 200_000;
    private const int MaxDepth = 64;

    public static JsonElement Convert(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new TaskerException(TaskerErrorCode.InvalidArgument,
                $"template is not valid YAML (line {e.Start.Line}, column {e.Start.Column}): {FirstLine(e.Message)}",
                new Dictionary<string, string>
                {
                    ["line"] = e.Start.Line.ToString(CultureInfo.InvariantCulture),
                    ["column"] = e.Start.Column.ToString(CultureInfo.InvariantCulture),
                });
        }

        if (stream.Documents.Count != 1)
            throw TaskerException.InvalidArgument($"template must contain exactly one YAML document (found {stream.Documents.Count})");

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var budget = MaxNodes;
            Write(writer, stream.Documents[0].RootNode, 0, ref budget);
        }
        return JsonValues.Parse(buffer.WrittenSpan, "template");
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    private static void Write(Utf8JsonWriter writer, YamlNode node, int depth, ref int budget)
    {
        if (--budget < 0)
            throw TaskerException.InvalidArgument($"template YAML expands to more than {MaxNodes} nodes");
        if (depth > MaxDepth)
            throw TaskerException.InvalidArgument($"template YAML is nested deeper than {MaxDepth} levels");

        switch (node)
        {
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Children)
                {
                    writer.WritePropertyName(key is YamlScalarNode k ? k.Value ?? "" : throw TaskerException.InvalidArgument("template YAML keys must be scalars"));
                    Write(writer, value, depth + 1, ref budget);
                }
                writer.WriteEndObject();
                break;
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                foreach (var item in sequence.Children)
                    Write(writer, item, depth + 1, ref budget);
                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                WriteScalar(writer, scalar);
                break;
            default:
                throw TaskerException.InvalidArgument($"unsupported YAML node at line {node.Start.Line}");
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
        {
            writer.WriteStringValue(text);
            return;
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                writer.WriteNullValue();
                return;
            case "true" or "True" or "TRUE":
                writer.WriteBooleanValue(true);
                return;
            case "false" or "False" or "FALSE":
                writer.WriteBooleanValue(false);
                return;
        }

        if (IntegerPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            writer.WriteNumberValue(integer);
        else if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            writer.WriteNumberValue(number);
        else
            writer.WriteStringValue(text);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
