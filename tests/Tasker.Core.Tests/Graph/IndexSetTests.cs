using Tasker.Core.Graph;
using Xunit;

namespace Tasker.Core.Tests.Graph;

/// <summary>The sparse sets of readiness, each in its slice of one shared array.</summary>
public sealed class IndexSetTests
{
    [Fact]
    public void Added_indices_are_members_once_each_in_the_order_added()
    {
        var set = new IndexSet(new int[IndexSet.Size(8)], 0, 8);
        set.Add(5);
        set.Add(2);
        set.Add(5);

        Assert.Equal([5, 2], set.Items.ToArray());
        Assert.True(set.Contains(2));
        Assert.False(set.Contains(3));
    }

    [Fact]
    public void Removing_a_member_moves_the_last_one_into_its_place()
    {
        var set = new IndexSet(new int[IndexSet.Size(8)], 0, 8);
        foreach (var i in new[] { 1, 4, 6 }) set.Add(i);

        set.Remove(1);
        set.Remove(7); // not a member: nothing happens

        Assert.Equal([6, 4], set.Items.ToArray());
        Assert.False(set.Contains(1));
        set.Add(1);
        Assert.Equal([6, 4, 1], set.Items.ToArray());
    }

    [Fact]
    public void Two_sets_and_other_data_in_one_buffer_do_not_touch_each_other()
    {
        const int n = 4;
        var buffer = new int[3 + 2 * IndexSet.Size(n)];
        buffer[0] = buffer[1] = buffer[2] = 42; // the owner's own data before the sets
        var first = new IndexSet(buffer, 3, n);
        var second = new IndexSet(buffer, 3 + IndexSet.Size(n), n);

        for (var i = 0; i < n; i++) first.Add(i);
        second.Add(3);
        first.Remove(0);
        second.Clear();
        second.Add(0);

        Assert.Equal([3, 1, 2], first.Items.ToArray());
        Assert.Equal([0], second.Items.ToArray());
        Assert.False(second.Contains(3));
        Assert.Equal([42, 42, 42], buffer[..3]);
    }

    [Fact]
    public void An_index_outside_the_capacity_is_refused_rather_than_written_into_a_neighbour()
    {
        var buffer = new int[2 * IndexSet.Size(2)];
        var set = new IndexSet(buffer, 0, 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Contains(-1));
        Assert.All(buffer, value => Assert.Equal(0, value));
    }
}
