namespace Tasker.Core.Storage;

/// <summary>
/// Thrown by a store's <see cref="IStore.CreateTaskAsync"/> when the template the task was made from is no longer the
/// registered one (another process changed it since this process looked it up; a store that keeps templates it looked
/// up checks this in the create itself). Nothing was written; the store has forgotten the template, so the engine looks
/// it up again and makes the task anew.
/// </summary>
internal sealed class TemplateChangedException(string ns, string name)
    : Exception($"template {ns}/{name} changed while the task was being created")
{
    public string Namespace { get; } = ns;
    public string Name { get; } = name;
}
