using Xunit;

namespace Tasker.Core.Tests.Identifiers;

/// <summary>The random bytes behind uuids and claim tokens.</summary>
public sealed class KernelRandomTests
{
    [Fact]
    public void On_linux_the_kernel_fills_a_buffer_larger_than_one_getrandom_read()
    {
        // The bytes come from getrandom, not from the OpenSSL fallback: if libc or the call could not be resolved, or
        // the loop stopped at a short count (possible above 256 bytes), fewer bytes would be filled. Elsewhere there is
        // no getrandom in a "libc", and RandomNumberGenerator fills everything.
        var bytes = new byte[64 * 1024];

        Assert.Equal(OperatingSystem.IsLinux() ? bytes.Length : 0, KernelRandom.FillFromKernel(bytes));
    }

    [Fact]
    public void The_tail_of_a_large_fill_is_random_too()
    {
        var bytes = new byte[64 * 1024];
        KernelRandom.Fill(bytes);

        var seen = new bool[256];
        foreach (var b in bytes.AsSpan(bytes.Length - 8192)) seen[b] = true;
        Assert.All(seen, Assert.True); // every byte value in the last 8 KB (a miss has a chance of about 10^-11)
    }
}
