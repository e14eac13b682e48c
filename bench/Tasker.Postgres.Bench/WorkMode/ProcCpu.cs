using System.Globalization;

namespace Tasker.Postgres.Bench.WorkMode;

/// <summary>
/// CPU time from <c>/proc/&lt;pid&gt;/stat</c> (utime + stime, in clock ticks of 10 ms): of a worker process, and of a
/// whole PostgreSQL server (the postmaster, its live children and, through cutime/cstime, its exited ones).
/// </summary>
internal static class ProcCpu
{
    /// <summary>Linux's USER_HZ: /proc reports CPU time in hundredths of a second.</summary>
    private const double TicksPerSecond = 100;

    private readonly record struct Stat(int ParentPid, long UserTicks, long SystemTicks, long ChildUserTicks, long ChildSystemTicks);

    /// <summary>CPU seconds used so far by process <paramref name="pid"/> (0 once it is gone).</summary>
    public static double Seconds(int pid) => Read(pid) is { } s ? (s.UserTicks + s.SystemTicks) / TicksPerSecond : 0;

    /// <summary>CPU seconds of the server whose postmaster is <paramref name="postmaster"/>: itself, every live child, every reaped child.</summary>
    public static double ServerSeconds(int postmaster)
    {
        if (Read(postmaster) is not { } root) return 0;
        var ticks = root.UserTicks + root.SystemTicks + root.ChildUserTicks + root.ChildSystemTicks;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (Read(pid) is { } s && s.ParentPid == postmaster)
                ticks += s.UserTicks + s.SystemTicks;
        }
        return ticks / TicksPerSecond;
    }

    /// <summary>The parent of <paramref name="pid"/> (for a backend: the postmaster).</summary>
    public static int ParentOf(int pid) => Read(pid)?.ParentPid ?? throw new InvalidOperationException($"no process {pid} (is PostgreSQL on another machine?)");

    private static Stat? Read(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // The command name (field 2) is in parentheses and may contain spaces: fields are counted after its ')'.
        var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long L(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture);
        return new Stat((int)L(4), L(14), L(15), L(16), L(17));
    }
}
