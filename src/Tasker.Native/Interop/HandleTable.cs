namespace Tasker.Native.Interop;

/// <summary>The kinds of handle the C ABI hands out; each has its own table and its own tag in the handle bits.</summary>
internal enum HandleKind : byte
{
    Engine = 1,
    Subscription = 2,
    Error = 3,
}

/// <summary>
/// Maps opaque C handles to managed objects. A handle is never a real pointer but three fields packed into 64 bits:
/// <code>
///   bits 63..32  generation of the slot (bumped on every free)
///   bits 31..24  kind tag (engine, subscription, error)
///   bits 23..0   slot + 1 (so no live handle is 0, which C reads as NULL)
/// </code>
/// A freed handle's slot gets a new generation, so a double free or a use after free is detected and reported as
/// <c>INVALID_HANDLE</c> instead of touching memory; the kind tag does the same for a handle of the wrong type (an
/// error passed where an engine is expected), which would otherwise name a live slot of another table.
/// Thread-safe. The layout needs 64-bit pointers, which every runtime identifier we publish has.
/// </summary>
internal sealed class HandleTable<T>(HandleKind kind) where T : class
{
    private const int SlotBits = 24;
    private const int MaxSlots = (1 << SlotBits) - 1;

    private readonly object _gate = new();
    private T?[] _items = new T?[16];
    private uint[] _generations = new uint[16];
    private readonly Stack<int> _free = new();
    private int _next;

    public nint Add(T item)
    {
        lock (_gate)
        {
            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else
            {
                if (_next == MaxSlots)
                    throw new Tasker.Core.TaskerException(Tasker.Core.TaskerErrorCode.Internal,
                        $"too many live {kind} handles ({MaxSlots}); handles are being leaked (free them with tasker_*_free)");
                if (_next == _items.Length)
                {
                    Array.Resize(ref _items, _items.Length * 2);
                    Array.Resize(ref _generations, _generations.Length * 2);
                }
                slot = _next++;
            }
            _items[slot] = item;
            return Encode(slot, _generations[slot]);
        }
    }

    public bool TryGet(nint handle, out T item)
    {
        item = null!;
        if (!Decode(handle, out var slot, out var generation)) return false;
        lock (_gate)
        {
            if (slot >= _next || _generations[slot] != generation || _items[slot] is not { } found) return false;
            item = found;
            return true;
        }
    }

    public T Get(nint handle, string what) =>
        TryGet(handle, out var item) ? item : throw InvalidHandle(handle, what);

    /// <summary>Removes the handle; returns the object it named, or null if the handle was not live.</summary>
    public T? Remove(nint handle)
    {
        if (!Decode(handle, out var slot, out var generation)) return null;
        lock (_gate)
        {
            if (slot >= _next || _generations[slot] != generation || _items[slot] is not { } found) return null;
            _items[slot] = null;
            _generations[slot]++;
            _free.Push(slot);
            return found;
        }
    }

    public static Tasker.Core.TaskerException InvalidHandle(nint handle, string what) =>
        new(Tasker.Core.TaskerErrorCode.InvalidHandle,
            handle == 0 ? $"{what} is NULL" : $"{what} is not a live {what} handle (already freed, another kind of handle, or never returned by tasker)");

    private nint Encode(int slot, uint generation) =>
        (nint)(((long)generation << 32) | ((long)kind << SlotBits) | (uint)(slot + 1));

    private bool Decode(nint handle, out int slot, out uint generation)
    {
        var value = (ulong)(long)handle;
        slot = (int)(value & MaxSlots) - 1;
        generation = (uint)(value >> 32);
        return slot >= 0 && (byte)(value >> SlotBits) == (byte)kind;
    }
}
