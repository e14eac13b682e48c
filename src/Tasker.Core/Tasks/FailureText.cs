namespace Tasker.Core;

/// <summary>
/// How much of a handler's failure is kept, decided once here for every host (the bindings send everything).
/// A backtrace keeps its outermost and innermost frames: Python lists the innermost frame last, Ruby and Node first,
/// so cutting one end would lose the most useful frames of some language.
/// </summary>
internal static class FailureText
{
    public const int MaxMessageChars = 8192;
    public const int MaxFrames = 200;
    public const int MaxFrameChars = 1024;

    public static string Message(string message) => NulText.Replace(
        message.Length <= MaxMessageChars ? message : string.Concat(message.AsSpan(0, MaxMessageChars), "..."));

    public static string? ErrorType(string? type) => type is null ? null : NulText.Replace(type.Length <= MaxFrameChars ? type : type[..MaxFrameChars]);

    public static IReadOnlyList<string>? Backtrace(IReadOnlyList<string>? frames)
    {
        if (frames is null) return null;
        if (frames.Count <= MaxFrames) return Cut(frames, 0, frames.Count, []);
        var kept = new List<string>(MaxFrames + 1);
        const int head = MaxFrames / 2;
        var tail = MaxFrames - head;
        Cut(frames, 0, head, kept);
        kept.Add($"... {frames.Count - MaxFrames} frames omitted ...");
        return Cut(frames, frames.Count - tail, frames.Count, kept);
    }

    private static List<string> Cut(IReadOnlyList<string> frames, int from, int to, List<string> into)
    {
        for (var i = from; i < to; i++)
        {
            var frame = frames[i];
            into.Add(NulText.Replace(frame.Length <= MaxFrameChars ? frame : string.Concat(frame.AsSpan(0, MaxFrameChars), "...")));
        }
        return into;
    }
}
