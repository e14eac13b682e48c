using System.Collections;
using System.Diagnostics;

namespace Tasker.Core.Tests.Support;

/// <summary>
/// Where an in-memory exporter puts finished spans, safe to read while it writes. The SDK listens process-wide, so
/// spans of tests running in parallel in other classes end on other threads at any moment: enumerating a plain list
/// then fails with "Collection was modified". Read through <see cref="Snapshot"/>.
/// </summary>
public sealed class SpanLog : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];

    public IReadOnlyList<Activity> Snapshot()
    {
        lock (_spans) return _spans.ToArray();
    }

    public void Add(Activity item)
    {
        lock (_spans) _spans.Add(item);
    }

    public int Count
    {
        get { lock (_spans) return _spans.Count; }
    }

    public bool IsReadOnly => false;

    public void Clear()
    {
        lock (_spans) _spans.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_spans) return _spans.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_spans) _spans.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_spans) return _spans.Remove(item);
    }

    public IEnumerator<Activity> GetEnumerator() => ((IEnumerable<Activity>)Snapshot()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
