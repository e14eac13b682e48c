using Xunit;

namespace Tasker.Core.Tests.Identifiers;

/// <summary>The random bytes behind uuids and claim tokens.</summary>
public sealed class KernelRandomTests
{
    [Fact]
    public void A_buffer_larger_than_one_kernel_read_is_filled_to_its_last_byte()
    {
        // getrandom may return a short count above 256 bytes; the tail must be filled too, not left zero.
        var bytes = new byte[64 * 1024];
        KernelRandom.Fill(bytes);

        var seen = new bool[256];
        foreach (var b in bytes.AsSpan(bytes.Length - 8192)) seen[b] = true;
        Assert.All(seen, Assert.True); // every byte value in the last 8 KB (a miss has a chance of about 10^-11)
    }

    [Fact]
    public void Two_fills_differ()
    {
        var first = new byte[32];
        var second = new byte[32];
        KernelRandom.Fill(first);
        KernelRandom.Fill(second);
        Assert.NotEqual(first, second);
    }
}
