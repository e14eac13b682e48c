namespace Tasker.Postgres.Tests.Support;

/// <summary>
/// Releases many racing tasks at once without blocking thread-pool threads (a Barrier would: on a 2-core machine
/// the pool then injects threads slowly and the "race" turns into a queue).
/// </summary>
public sealed class StartGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync() => _open.Task;

    public void Open() => _open.TrySetResult();

    /// <summary>Starts <paramref name="count"/> bodies that all wait for the gate, opens it, and awaits them all.</summary>
    public static async Task<T[]> RaceAsync<T>(int count, Func<int, Task<T>> body)
    {
        var gate = new StartGate();
        var racers = Enumerable.Range(0, count).Select(n => Task.Run(async () =>
        {
            await gate.WaitAsync();
            return await body(n);
        })).ToArray();
        gate.Open();
        return await Task.WhenAll(racers);
    }

    public static Task RaceAsync(int count, Func<int, Task> body) =>
        RaceAsync(count, async n =>
        {
            await body(n);
            return true;
        });
}
