namespace Tasker.Core.Graph;

/// <summary>
/// A sparse set of step indices in [0, capacity): O(1) add, remove and contains, and iteration over members
/// only. Readiness keeps its candidate and in-flight steps here so an update touches nothing else.
/// <para>
/// The set lives in a slice of an int array its owner shares with its other bookkeeping: its count, its members, then
/// each index's position among them (+1; 0 = absent). A task's bookkeeping is then one object, not eight: every
/// finished task the memory store retains keeps it, and the GC copies and marks it with the task.
/// </para>
/// </summary>
internal readonly struct IndexSet
{
    private readonly int[] _buffer;
    private readonly int _count;     // where the count is
    private readonly int _position;  // where the positions start
    private readonly int _capacity;

    /// <param name="buffer">The shared array.</param>
    /// <param name="start">Where the set's slice of <see cref="Size"/>(<paramref name="capacity"/>) ints begins.</param>
    public IndexSet(int[] buffer, int start, int capacity)
    {
        _buffer = buffer;
        _count = start;
        _position = start + 1 + capacity;
        _capacity = capacity;
    }

    /// <summary>The ints a set of this capacity takes in its buffer.</summary>
    public static int Size(int capacity) => 1 + 2 * capacity;

    public int Count => _buffer[_count];

    public ReadOnlySpan<int> Items => _buffer.AsSpan(_count + 1, Count);

    public bool Contains(int index) => Position(index) != 0;

    public void Add(int index)
    {
        ref var position = ref Position(index);
        if (position != 0) return;
        var count = _buffer[_count];
        _buffer[_count + 1 + count] = index;
        position = _buffer[_count] = count + 1;
    }

    public void Remove(int index)
    {
        var at = Position(index) - 1;
        if (at < 0) return;
        var count = --_buffer[_count];
        var last = _buffer[_count + 1 + count];
        _buffer[_count + 1 + at] = last;
        Position(last) = at + 1;
        Position(index) = 0;
    }

    public void Clear()
    {
        foreach (var index in Items)
            Position(index) = 0;
        _buffer[_count] = 0;
    }

    private ref int Position(int index)
    {
        if ((uint)index >= (uint)_capacity) throw new ArgumentOutOfRangeException(nameof(index));
        return ref _buffer[_position + index];
    }
}
