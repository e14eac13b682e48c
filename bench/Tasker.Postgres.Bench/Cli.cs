using System.Globalization;

namespace Tasker.Postgres.Bench;

/// <summary>Minimal <c>--name value</c> argument reader (no dependency, nothing clever).</summary>
internal sealed class Cli
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public Cli(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            var name = args[i][2..];
            _values[name] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }
    }

    public string Required(string name) =>
        _values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public string String(string name, string fallback) => _values.GetValueOrDefault(name) ?? fallback;

    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        _values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name) => _values.ContainsKey(name);

    /// <summary>The database, from --database-url or TASKER_DATABASE_URL / TASKER_TEST_DATABASE_URL.</summary>
    public string DatabaseUrl() =>
        Optional("database-url")
        ?? Environment.GetEnvironmentVariable("TASKER_DATABASE_URL")
        ?? Environment.GetEnvironmentVariable("TASKER_TEST_DATABASE_URL")
        ?? throw new ArgumentException("--database-url (or TASKER_DATABASE_URL) is required");
}
