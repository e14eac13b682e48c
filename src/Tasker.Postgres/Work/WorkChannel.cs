using System.Security.Cryptography;
using System.Text;

namespace Tasker.Postgres.Work;

/// <summary>
/// The NOTIFY channel of one schema's workers. Channels are per database, so schemas sharing one (several apps,
/// every test of a suite) would otherwise wake each other's workers for work they cannot see.
/// </summary>
internal static class WorkChannel
{
    private const string Prefix = "tasker_work";

    /// <summary>PostgreSQL cuts identifiers at 63 bytes: longer schema names are hashed into the channel name.</summary>
    private const int MaxBytes = 63;

    public static string For(string? schema)
    {
        if (string.IsNullOrEmpty(schema)) return Prefix;
        var name = $"{Prefix}.{schema}";
        return Encoding.UTF8.GetByteCount(name) <= MaxBytes
            ? name
            : $"{Prefix}.{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(schema)))[..32]}";
    }

    /// <summary>LISTEN takes an identifier, not a parameter: the channel quoted as one.</summary>
    public static string Listen(string channel) => $"LISTEN \"{channel.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
