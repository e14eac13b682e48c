using Tasker.Postgres.Tasks;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>This process's changes of one task take turns at its gate; other tasks' changes never wait for it.</summary>
public sealed class TaskGatesTests
{
    private readonly TaskGates _gates = new();

    [Fact]
    public void A_change_of_one_task_never_waits_for_a_change_of_another()
    {
        // Enough tasks that any fixed set of stripes would put two of them on one gate.
        var held = Enumerable.Range(0, 5_000).Select(_ => _gates.Join(Guid.CreateVersion7())).ToList();

        Assert.All(held, gate => Assert.True(gate.Turn.Wait(0)));
    }

    [Fact]
    public async Task Changes_of_one_task_take_turns_at_its_gate()
    {
        var task = Guid.CreateVersion7();
        var first = _gates.Join(task);
        Assert.True(first.Turn.Wait(0));
        var second = _gates.Join(task);

        var waiting = second.Turn.WaitAsync();
        Assert.False(waiting.IsCompleted);
        first.Turn.Release();
        _gates.Leave(first);

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(first, second);
    }

    [Fact]
    public void A_task_keeps_its_gate_only_while_someone_holds_or_waits_for_it()
    {
        var task = Guid.CreateVersion7();
        var holder = _gates.Join(task);
        Assert.True(holder.Turn.Wait(0));
        var passer = _gates.Join(task);
        Assert.False(passer.Turn.Wait(0)); // a work claim passes the task over
        _gates.Leave(passer);
        Assert.Equal(1, _gates.Count);

        holder.Turn.Release();
        _gates.Leave(holder);

        Assert.Equal(0, _gates.Count);
        Assert.True(_gates.Join(task).Turn.Wait(0)); // a reused gate starts free
    }
}
