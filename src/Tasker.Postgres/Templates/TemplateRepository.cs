using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using Tasker.Core.Templates;
using Tasker.Postgres.Resilience;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Templates;

/// <summary>
/// Stores templates as their canonical JSON and reads them back through <see cref="TemplateParser"/>. Parsed
/// templates are cached by the hash of that JSON: a template re-registered with different content (new hash) is
/// re-parsed everywhere. What a lookup found is kept too, with the template's <see cref="TemplateSql.Fingerprint"/>:
/// the next lookup of it costs no query, and the create of a task from it checks the fingerprint in its own statement
/// (<see cref="FingerprintOf"/>), so a template that another process changed since is looked up again
/// (<see cref="Forget"/>) rather than used.
/// </summary>
internal sealed class TemplateRepository(StoreExecutor executor, StoreCounters counters)
{
    /// <summary>A lookup's result: the template, and the fingerprint of its namespace and name when it was found.</summary>
    private sealed record Found(TaskTemplate Template, string Fingerprint);

    /// <summary>Bounded: templates are few; this only guards a leak (a process looking up ever new names).</summary>
    private const int MaxCached = 4096;

    private readonly StoreCounters _counters = counters;
    private readonly ConcurrentDictionary<string, TaskTemplate> _parsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Namespace, string Name, string? Version), Found> _found = new();
    private readonly ConcurrentDictionary<(string Namespace, string Name), string> _fingerprints = new();

    public async ValueTask SaveAsync(TaskTemplate template, CancellationToken cancellationToken)
    {
        var json = TemplateJson.Write(template);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        await executor.RunAsync("save_template", (template, json, hash, _counters), static async (connection, s, token) =>
        {
            var (template, json, hash, counters) = s;
            var steps = template.Steps;
            await using var command = new NpgsqlCommand(TemplateSql.Save, connection);
            var p = command.Parameters;
            p.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
            p.Add(new NpgsqlParameter<string> { TypedValue = template.Namespace });
            p.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
            p.Add(new NpgsqlParameter<string> { TypedValue = template.Name });
            p.Add(new NpgsqlParameter<string> { TypedValue = template.Version.ToString() });
            p.Add(new NpgsqlParameter<int> { TypedValue = template.Version.Major });
            p.Add(new NpgsqlParameter<int> { TypedValue = template.Version.Minor });
            p.Add(new NpgsqlParameter<int> { TypedValue = template.Version.Patch });
            p.Add(Parameters.Text(template.Version.Prerelease));
            p.Add(Parameters.Text(template.Description));
            p.Add(new NpgsqlParameter<string> { TypedValue = json });
            p.Add(new NpgsqlParameter<string> { TypedValue = hash });
            p.Add(Parameters.Array(steps.Select(_ => Guid.CreateVersion7()).ToArray()));
            p.Add(Parameters.Array(steps.Select(s => s.Name).ToArray()));
            p.Add(Parameters.Array(Enumerable.Range(0, steps.Count).ToArray()));
            p.Add(Parameters.Array(steps.Select(s => s.Handler).ToArray()));
            p.Add(Parameters.TextArray(steps.Select(s => s.Description).ToArray()));
            await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            counters.RoundTrip(1);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        Forget(template.Namespace, template.Name); // this process's next create looks the new registration up
    }

    /// <summary>
    /// The template as this process last found it, or (first lookup, or after <see cref="Forget"/>) as the database
    /// has it now: for a create, which checks the fingerprint. A null version means the highest registered version.
    /// </summary>
    public ValueTask<TaskTemplate?> FindKnownAsync(string ns, string name, string? version, CancellationToken cancellationToken) =>
        _found.TryGetValue((ns, name, version), out var found)
            ? ValueTask.FromResult<TaskTemplate?>(found.Template)
            : FindAsync(ns, name, version, cancellationToken);

    /// <summary>
    /// The fingerprint under which this process last found a version of the template, for the create's check (NULL
    /// when it never looked it up: the create then does not check). As with a lookup of its own, a create may still
    /// use a template replaced while it runs; never one replaced before this process's last lookup of it.
    /// </summary>
    public string? FingerprintOf(string ns, string name) => _fingerprints.TryGetValue((ns, name), out var f) ? f : null;

    /// <summary>A create found the template changed: every version of it is looked up again.</summary>
    public void Forget(string ns, string name)
    {
        _fingerprints.TryRemove((ns, name), out _);
        foreach (var key in _found.Keys)
            if (key.Namespace == ns && key.Name == name) _found.TryRemove(key, out _);
    }

    /// <summary>The template as the database has it now (and kept for <see cref="FindKnownAsync"/>).</summary>
    public ValueTask<TaskTemplate?> FindAsync(string ns, string name, string? version, CancellationToken cancellationToken) =>
        executor.RunAsync("find_template", (this, ns, name, version), static async (connection, s, token) =>
        {
            var (self, ns, name, version) = s;
            var rows = new List<(Guid NamedTaskUuid, string SourceHash, string Version, string Fingerprint)>();
            await using (var command = new NpgsqlCommand(TemplateSql.Find, connection))
            {
                command.Parameters.Add(Parameters.Text(version));
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ns });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                self._counters.RoundTrip(1);
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                while (await reader.ReadAsync(token).ConfigureAwait(false))
                    rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
            if (rows.Count == 0) return null;
            var found = rows.MaxBy(r => TemplateVersion.Parse(r.Version));
            if (!self._parsed.TryGetValue(found.SourceHash, out var template))
            {
                var source = await connection.QuerySingleAsync<string>(TemplateSql.Source, new { found.NamedTaskUuid, Cancel = token }).ConfigureAwait(false);
                self._counters.RoundTrip(1);
                template = TemplateParser.Parse(source, TemplateParseOptions.Resolved);
                if (self._parsed.Count > MaxCached) self._parsed.Clear();
                self._parsed[found.SourceHash] = template;
            }
            if (self._found.Count > MaxCached)
            {
                self._found.Clear();
                self._fingerprints.Clear();
            }
            self._found[(ns, name, version)] = new Found(template, found.Fingerprint);
            self._fingerprints[(ns, name)] = found.Fingerprint;
            return (TaskTemplate?)template;
        }, cancellationToken);
}
