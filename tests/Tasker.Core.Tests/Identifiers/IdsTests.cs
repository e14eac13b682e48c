using Xunit;

namespace Tasker.Core.Tests.Identifiers;

/// <summary>Uuid v7 and claim tokens from the pooled random bytes.</summary>
public sealed class IdsTests
{
    [Fact]
    public void Uuids_are_version_7_with_the_rfc_variant_and_the_given_millisecond()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_763_000_000_123);
        var text = Ids.NewV7(now).ToString("N");

        Assert.Equal(now.ToUnixTimeMilliseconds(), Convert.ToInt64(text[..12], 16));
        Assert.Equal('7', text[12]);
        Assert.Contains(text[16], "89ab");
    }

    [Fact]
    public void Uuids_sort_by_time()
    {
        var earlier = Ids.NewV7(DateTimeOffset.FromUnixTimeMilliseconds(1_000));
        var later = Ids.NewV7(DateTimeOffset.FromUnixTimeMilliseconds(2_000));
        Assert.True(string.CompareOrdinal(earlier.ToString(), later.ToString()) < 0);
    }

    [Fact]
    public void Ten_thousand_tokens_and_uuids_are_all_distinct_across_pool_refills()
    {
        var now = DateTimeOffset.UtcNow;
        var tokens = Enumerable.Range(0, 10_000).Select(_ => Ids.NewToken()).ToHashSet();
        var uuids = Enumerable.Range(0, 10_000).Select(_ => Ids.NewV7(now)).ToHashSet();
        Assert.Equal((10_000, 10_000), (tokens.Count, uuids.Count));
        Assert.All(tokens, t => Assert.Matches("^[0-9a-f]{32}$", t));
    }
}
