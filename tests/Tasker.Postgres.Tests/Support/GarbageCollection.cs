using System.Runtime.CompilerServices;

namespace Tasker.Postgres.Tests.Support;

/// <summary>Whether an object nothing should hold any more is collected (what a timer or a callback may still root).</summary>
internal static class GarbageCollection
{
    /// <summary>True once a few full collections have freed the target.</summary>
    public static async Task<bool> IsCollectedAsync<T>(WeakReference<T> reference) where T : class
    {
        for (var i = 0; i < 10 && IsAlive(reference); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(10);
        }
        return !IsAlive(reference);
    }

    /// <summary>Out of line: the target TryGetTarget hands out would otherwise stay on the caller's frame, rooting it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool IsAlive<T>(WeakReference<T> reference) where T : class => reference.TryGetTarget(out _);
}
