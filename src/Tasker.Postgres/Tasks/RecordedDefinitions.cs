using System.Collections.Concurrent;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// The definitions this process knows to be in <c>tasker_definition_handlers</c>: those of tasks it created and saw
/// commit. Rows of that table are never deleted, so its next creates of such a definition need not record it again
/// (they leave out <see cref="Sql.TaskSql.CreateParts.RecordDefinition"/>). A create inside a host's transaction is not counted: the transaction may
/// still roll back, taking the rows with it.
/// </summary>
internal sealed class RecordedDefinitions(int capacity)
{
    private readonly ConcurrentDictionary<string, byte> _keys = new(StringComparer.Ordinal);

    public bool Contains(string definitionKey) => _keys.ContainsKey(definitionKey);

    public void Add(string definitionKey)
    {
        if (_keys.ContainsKey(definitionKey)) return;
        // Definitions are few (one per template version in use); the bound only stops a pathological leak.
        if (_keys.Count >= capacity) _keys.Clear();
        _keys.TryAdd(definitionKey, 0);
    }
}
