using System.Globalization;
using System.Text;
using Tasker.Cli.Diagnosis;
using Tasker.Cli.Output;
using Tasker.Core;

namespace Tasker.Cli.Dashboard;

/// <summary>The task's DAG as inline SVG: one column per level, nodes coloured by state, edges from each dependency.</summary>
internal static class DagSvg
{
    private const int NodeWidth = 170, NodeHeight = 38, ColumnGap = 60, RowGap = 18, Margin = 12;

    public static string Render(TaskView task)
    {
        var levels = DagLayout.Levels(task);
        var position = new Dictionary<string, (int X, int Y)>();
        for (var l = 0; l < levels.Count; l++)
            for (var r = 0; r < levels[l].Count; r++)
                position[levels[l][r].Name] = (Margin + l * (NodeWidth + ColumnGap), Margin + r * (NodeHeight + RowGap));
        var width = Margin * 2 + levels.Count * (NodeWidth + ColumnGap) - ColumnGap;
        var height = Margin * 2 + levels.Max(l => l.Count) * (NodeHeight + RowGap) - RowGap;

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dag\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"task DAG\">");
        sb.Append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#607d8b\"/></marker></defs>");
        foreach (var step in task.Steps)
            foreach (var dependency in step.Dependencies)
            {
                var (x1, y1) = position[dependency];
                var (x2, y2) = position[step.Name];
                sb.Append(CultureInfo.InvariantCulture,
                    $"<path d=\"M{x1 + NodeWidth},{y1 + NodeHeight / 2} C{x1 + NodeWidth + ColumnGap / 2},{y1 + NodeHeight / 2} {x2 - ColumnGap / 2},{y2 + NodeHeight / 2} {x2 - 2},{y2 + NodeHeight / 2}\" fill=\"none\" stroke=\"#607d8b\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>");
            }
        foreach (var step in task.Steps)
        {
            var (x, y) = position[step.Name];
            var state = step.State.ToWire();
            var label = step.Name.Length > 22 ? step.Name[..21] + "…" : step.Name;
            sb.Append(CultureInfo.InvariantCulture, $"<a href=\"#step-{Html.E(step.Name)}\" class=\"node\" data-state=\"{state}\"><title>{Html.E(step.Name)}: {state}, attempt {step.Attempts}/{step.MaxAttempts}</title>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y}\" width=\"{NodeWidth}\" height=\"{NodeHeight}\" rx=\"7\" fill=\"{StateStyle.Fill(state)}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 10}\" y=\"{y + 16}\" fill=\"#fff\" font-size=\"13\" font-weight=\"600\">{Html.E(label)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 10}\" y=\"{y + 31}\" fill=\"#fff\" font-size=\"11\">{state} · {step.Attempts}/{step.MaxAttempts}</text></a>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }
}
