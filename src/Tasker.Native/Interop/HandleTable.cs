namespace Tasker.Native.Interop;

/// <summary>
/// Maps opaque C handles to managed objects. A handle is <c>(generation &lt;&lt; 32) | (slot + 1)</c>, never a real
/// pointer: a freed handle's slot gets a new generation, so a double free or a use after free is detected and
/// reported as <c>INVALID_HANDLE</c> instead of touching memory. Thread-safe.
/// </summary>
internal sealed class HandleTable<T> where T : class
{
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
                if (_next == _items.Length)
                {
                    Array.Resize(ref _items, _items.Length * 2);
                    Array.Resize(ref _generations, _generations.Length * 2);
                }
                slot = _next++;
            }
            _items[slot] = item;
            return (nint)(((long)_generations[slot] << 32) | (uint)(slot + 1));
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
            handle == 0 ? $"{what} is NULL" : $"{what} is not a live handle (already freed, or never returned by tasker)");

    private static bool Decode(nint handle, out int slot, out uint generation)
    {
        var value = (long)handle;
        slot = (int)(uint)(value & 0xFFFF_FFFF) - 1;
        generation = (uint)((ulong)value >> 32);
        return slot >= 0;
    }
}
