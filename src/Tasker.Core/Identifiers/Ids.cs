using System.Buffers.Binary;

namespace Tasker.Core;

/// <summary>
/// Task and step uuids (version 7: time-ordered, so database index inserts stay local) and claim tokens, from
/// cryptographically strong random bytes (<see cref="KernelRandom"/>). The bytes are drawn from a per-thread pool
/// refilled 4 KB at a time: <see cref="Guid.NewGuid"/> asks the kernel once per call, which showed up as 3 % of a
/// step's time through the ABI.
/// </summary>
internal static class Ids
{
    private const int PoolSize = 4096;

    [ThreadStatic] private static byte[]? t_pool;
    [ThreadStatic] private static int t_used;

    /// <summary>A version 7 uuid (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.</summary>
    public static Guid NewV7(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random(bytes);
        var milliseconds = now.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)(milliseconds >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(bytes[2..], (uint)milliseconds);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F)); // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // variant 10
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>A claim token: 128 random bits as 32 hex digits.</summary>
    public static string NewToken()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    private static void Random(Span<byte> destination)
    {
        var pool = t_pool;
        if (pool is null || t_used + destination.Length > PoolSize)
        {
            pool = t_pool ??= new byte[PoolSize];
            KernelRandom.Fill(pool);
            t_used = 0;
        }
        pool.AsSpan(t_used, destination.Length).CopyTo(destination);
        // Never hand out the same bytes twice.
        pool.AsSpan(t_used, destination.Length).Clear();
        t_used += destination.Length;
    }
}
