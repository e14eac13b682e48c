using System.Text.Json;
using Tasker.Core;

namespace Tasker.Native.Interop;

/// <summary>
/// The exception firewall. Every export body is <c>try { ... } catch (Exception e) { return Boundary.ToError(e); }</c>:
/// nothing ever unwinds into C. Expected failures keep their code and message; anything else becomes
/// <c>INTERNAL</c> with a generic message (the exception type only: no data, no secrets).
/// </summary>
internal static class Boundary
{
    public const nint Ok = 0;

    public static nint ToError(Exception exception) => exception switch
    {
        TaskerException e => NativeError.Create(e.Code, e.Message, e.Details),
        AggregateException { InnerExceptions.Count: 1 } e => ToError(e.InnerException!),
        JsonException e => NativeError.Create(TaskerErrorCode.InvalidJson, "invalid JSON: " + e.Message),
        OperationCanceledException or TimeoutException => NativeError.Create(TaskerErrorCode.Timeout, "the operation timed out"),
        // Another thread freed the engine while this call was using it (its store is closed underneath us).
        ObjectDisposedException => NativeError.Create(TaskerErrorCode.InvalidHandle, "the engine was freed while the call was running"),
        OutOfMemoryException => NativeError.Create(TaskerErrorCode.Internal, "out of memory"),
        _ => NativeError.Create(TaskerErrorCode.Internal, $"internal error ({exception.GetType().Name}); this is a bug in tasker",
            new Dictionary<string, string> { ["exception"] = exception.GetType().FullName ?? "unknown" }),
    };

    /// <summary>
    /// Waits for an engine call on the host's thread; the memory store completes synchronously, PostgreSQL does I/O.
    /// Blocks without spinning (<see cref="HostThreadGate"/>): the host's threads share the cores with the database.
    /// </summary>
    public static T Wait<T>(ValueTask<T> pending)
    {
        if (pending.IsCompletedSuccessfully) return pending.Result;
        var awaiter = pending.ConfigureAwait(false).GetAwaiter();
        if (!awaiter.IsCompleted) HostThreadGate.Block(ref awaiter);
        return awaiter.GetResult();
    }

    public static void Wait(ValueTask pending)
    {
        if (pending.IsCompletedSuccessfully) return;
        var awaiter = pending.ConfigureAwait(false).GetAwaiter();
        if (!awaiter.IsCompleted) HostThreadGate.Block(ref awaiter);
        awaiter.GetResult();
    }

    /// <summary>Checks an output buffer and empties it, so a failed call never leaves stale data behind.</summary>
    public static unsafe void BeginOutput(TaskerBytes* output, string name)
    {
        RequireOut(output, name);
        *output = default;
    }

    public static unsafe void RequireOut(void* pointer, string name)
    {
        if (pointer == null)
            throw new TaskerException(TaskerErrorCode.InvalidArgument, $"{name} is NULL", new Dictionary<string, string> { ["field"] = name });
    }
}
