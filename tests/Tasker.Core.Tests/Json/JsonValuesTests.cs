using System.Text;
using System.Text.Json;
using Xunit;

namespace Tasker.Core.Tests.Json;

/// <summary>The one gate for untrusted JSON: everything it accepts can be stored, read back and written out.</summary>
public sealed class JsonValuesTests
{
    private static TaskerException Rejects(string json)
    {
        var e = Assert.Throws<TaskerException>(() => JsonValues.Parse(json, "context"));
        Assert.Equal(TaskerErrorCode.InvalidJson, e.Code);
        Assert.Equal("context", e.Details["what"]);
        return e;
    }

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    [Theory]
    [InlineData("""{"note": "\ud800"}""")]
    [InlineData("""{"note": "\udfff tail"}""")]
    [InlineData("""{"note": "\ud800\u0041"}""")]
    [InlineData("""{"\ud83d": 1}""")]
    [InlineData("""["ok", ["\uDC00"]]""")]
    public void Unpaired_surrogate_escapes_are_invalid_json(string json)
    {
        var e = Rejects(json);
        Assert.Contains("unpaired UTF-16 surrogate", e.Message);
        Assert.True(e.Details.ContainsKey("byte_offset"));
    }

    [Fact]
    public void Escaped_surrogate_pairs_and_other_escapes_are_accepted_and_read_back()
    {
        var value = JsonValues.Parse("""{"emoji": "\ud83d\ude00", "quote": "a\"b\\c\n", "e\u0301": "\u00e9"}""", "context");

        Assert.Equal("\U0001F600", value.GetProperty("emoji").GetString());
        Assert.Equal("a\"b\\c\n", value.GetProperty("quote").GetString());
        Assert.Equal("é", value.GetProperty("e\u0301").GetString());
    }

    [Fact]
    public void Every_accepted_document_can_be_written_out_again()
    {
        var value = JsonValues.Parse("""{"s": "\ud83d\ude00 \u0000 \t"}""", "context");

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) value.WriteTo(writer);
        Assert.Equal("\U0001F600 \0 \t", JsonDocument.Parse(stream.ToArray()).RootElement.GetProperty("s").GetString());
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_accepted()
    {
        var value = JsonValues.Parse(Nested(JsonValues.MaxDepth), "context");
        Assert.Equal(JsonValueKind.Array, value.ValueKind);
    }

    [Fact]
    public void Nesting_past_the_limit_names_the_limit()
    {
        var e = Rejects(Nested(JsonValues.MaxDepth + 1));
        Assert.Contains($"nests deeper than {JsonValues.MaxDepth} levels", e.Message);
        Assert.Equal("64", e.Details["max_depth"]);
    }

    [Fact]
    public void Very_deep_nesting_is_rejected_without_exhausting_the_stack()
    {
        var e = Rejects(new string('[', 1_000_000));
        Assert.Contains("nests deeper than", e.Message);
    }

    [Fact]
    public void Malformed_json_reports_line_and_byte_not_depth()
    {
        var e = Rejects("{\n  \"a\": tru }");
        Assert.StartsWith("context is not valid JSON (line 2", e.Message);
        Assert.False(e.Details.ContainsKey("max_depth"));
    }

    [Fact]
    public void Trailing_data_after_the_value_is_rejected()
    {
        Rejects("{} {}");
    }

    [Fact]
    public void Documents_over_the_size_limit_are_refused_before_parsing()
    {
        var e = Assert.Throws<TaskerException>(() => JsonValues.Parse(new byte[JsonValues.MaxDocumentBytes + 1], "result"));
        Assert.Equal(TaskerErrorCode.InvalidArgument, e.Code);
    }

    [Fact]
    public void Documents_with_unpaired_surrogates_are_refused_by_the_document_parser_too()
    {
        var e = Assert.Throws<TaskerException>(() => JsonValues.ParseDocument(Encoding.UTF8.GetBytes("""{"a":"\ud800"}"""), "template"));
        Assert.Equal(TaskerErrorCode.InvalidJson, e.Code);
    }
}
