namespace Tasker.Cli.Output;

/// <summary>
/// A plain text table: a bold header, columns padded to their widest cell, each cell optionally coloured (padding is
/// computed on the text, so colour codes never shift the columns). Long cells are cut with an ellipsis.
/// </summary>
internal sealed class Table(params string[] headers)
{
    private const int MaxCell = 60;
    private readonly List<(string Text, string? Sgr)[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params (string Text, string? Sgr)[] cells) => _rows.Add(cells.Select(c => (Cut(c.Text), c.Sgr)).ToArray());

    public void Add(params string[] cells) => Add(cells.Select(c => (c, (string?)null)).ToArray());

    public void Write(Terminal terminal)
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
            for (var i = 0; i < row.Length && i < widths.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Text.Length);
        terminal.Out.WriteLine(string.Join("  ", headers.Select((h, i) => terminal.Bold(Pad(h, widths[i], i)))).TrimEnd());
        foreach (var row in _rows)
            terminal.Out.WriteLine(string.Join("  ", row.Select((c, i) => terminal.Paint(Pad(c.Text, widths[i], i), c.Sgr))).TrimEnd());
    }

    private string Pad(string text, int width, int column) => column == headers.Length - 1 ? text : text.PadRight(width);

    private static string Cut(string text)
    {
        text = text.ReplaceLineEndings(" ");
        return text.Length <= MaxCell ? text : text[..(MaxCell - 1)] + "…";
    }
}
