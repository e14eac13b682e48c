namespace Tasker.Core.Graph;

/// <summary>
/// A sparse set of step indices in [0, capacity): O(1) add, remove and contains, and iteration over members
/// only. Readiness keeps its candidate and in-flight steps here so an update touches nothing else.
/// </summary>
internal sealed class IndexSet
{
    private readonly int[] _dense;
    private readonly int[] _position; // position in _dense + 1; 0 = absent

    public IndexSet(int capacity)
    {
        _dense = new int[capacity];
        _position = new int[capacity];
    }

    public int Count { get; private set; }

    public ReadOnlySpan<int> Items => _dense.AsSpan(0, Count);

    public bool Contains(int index) => _position[index] != 0;

    public void Add(int index)
    {
        if (_position[index] != 0) return;
        _dense[Count] = index;
        _position[index] = ++Count;
    }

    public void Remove(int index)
    {
        var at = _position[index] - 1;
        if (at < 0) return;
        var last = _dense[--Count];
        _dense[at] = last;
        _position[last] = at + 1;
        _position[index] = 0;
    }

    public void Clear()
    {
        foreach (var index in Items)
            _position[index] = 0;
        Count = 0;
    }
}
