namespace Tasker.Core.Telemetry;

/// <summary>
/// The managed heap of the process the engine runs in, as the garbage collector last saw it: what the engine (and,
/// in a C# host, the host) costs in memory, next to the task counts in <see cref="Storage.EngineHealth"/>. Through libtasker
/// it is the library's own heap, separate from the host interpreter's.
/// </summary>
/// <param name="HeapSizeBytes">Bytes in the managed heap after the last collection (live objects plus fragmentation).</param>
/// <param name="CommittedBytes">Bytes the GC has committed from the OS: the managed part of the process's RSS (0 before the first collection).</param>
/// <param name="FragmentedBytes">Free space inside the heap after the last collection.</param>
/// <param name="TotalAllocatedBytes">Bytes allocated since the process started: its rate of change is the allocation rate.</param>
/// <param name="Gen0Collections">Collections of generation 0 so far (a gen1 or gen2 collection counts here too).</param>
/// <param name="Gen1Collections">Collections of generation 1 so far (a gen2 collection counts here too).</param>
/// <param name="Gen2Collections">Full collections so far.</param>
/// <param name="PauseTimePercentage">Share of the process's time spent paused in collections (0 to 100).</param>
public sealed record ManagedMemory(
    long HeapSizeBytes,
    long CommittedBytes,
    long FragmentedBytes,
    long TotalAllocatedBytes,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections,
    double PauseTimePercentage)
{
    /// <summary>The figures now. Cheap (no collection is triggered): fine for every health check.</summary>
    public static ManagedMemory Capture()
    {
        var info = GC.GetGCMemoryInfo();
        return new ManagedMemory(
            // Before the first collection the GC has no figures yet: what is allocated so far is the heap.
            info.Index == 0 ? GC.GetTotalMemory(forceFullCollection: false) : info.HeapSizeBytes,
            info.TotalCommittedBytes,
            info.FragmentedBytes,
            GC.GetTotalAllocatedBytes(precise: true),
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            info.PauseTimePercentage);
    }
}
