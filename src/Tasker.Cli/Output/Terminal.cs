namespace Tasker.Cli.Output;

/// <summary>
/// Where a command writes, and whether it may colour: only a real terminal, and never when NO_COLOR is set
/// (https://no-color.org). Tests pass their own writers, which are never coloured.
/// </summary>
internal sealed class Terminal(TextWriter output, TextWriter error, bool color)
{
    public TextWriter Out { get; } = output;
    public TextWriter Err { get; } = error;
    public bool Color { get; } = color;

    public static Terminal Console()
    {
        var color = !System.Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
            && Environment.GetEnvironmentVariable("TERM") != "dumb";
        return new Terminal(System.Console.Out, System.Console.Error, color);
    }

    /// <summary><paramref name="text"/> in an ANSI colour (SGR code) when colouring is on.</summary>
    public string Paint(string text, string? sgr) => Color && sgr is not null && text.Length > 0 ? $"\u001b[{sgr}m{text}\u001b[0m" : text;

    public string Bold(string text) => Paint(text, Sgr.Bold);
    public string Dim(string text) => Paint(text, Sgr.Dim);
}

/// <summary>The ANSI select-graphic-rendition codes we use.</summary>
internal static class Sgr
{
    public const string Bold = "1";
    public const string Dim = "2";
    public const string Red = "31";
    public const string Green = "32";
    public const string Yellow = "33";
    public const string Blue = "34";
    public const string Magenta = "35";
    public const string Cyan = "36";
}
