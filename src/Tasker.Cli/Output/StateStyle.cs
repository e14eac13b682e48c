namespace Tasker.Cli.Output;

/// <summary>One colour per state, the same in the terminal and (as CSS classes) in the dashboard.</summary>
internal static class StateStyle
{
    public static string? Sgr(string state) => state switch
    {
        "complete" => Output.Sgr.Green,
        "error" => Output.Sgr.Red,
        "in_progress" => Output.Sgr.Cyan,
        "waiting_for_retry" => Output.Sgr.Yellow,
        "resolved_manually" => Output.Sgr.Magenta,
        "cancelled" => Output.Sgr.Dim,
        _ => null,
    };

    /// <summary>The fill of a DAG node in the dashboard's SVG.</summary>
    public static string Fill(string state) => state switch
    {
        "complete" => "#2e7d32",
        "error" => "#c62828",
        "in_progress" => "#0277bd",
        "waiting_for_retry" => "#f9a825",
        "resolved_manually" => "#6a1b9a",
        "cancelled" => "#757575",
        _ => "#90a4ae",
    };
}
