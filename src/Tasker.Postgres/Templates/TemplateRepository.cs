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
/// templates are cached by the hash of that JSON: a lookup costs one small query, and a template re-registered with
/// different content (new hash) is re-parsed everywhere.
/// </summary>
internal sealed class TemplateRepository(StoreExecutor executor, StoreCounters counters)
{
    internal sealed class FoundRow
    {
        public Guid NamedTaskUuid { get; set; }
        public string SourceHash { get; set; } = "";
        public string Version { get; set; } = "";
    }

    private readonly StoreCounters _counters = counters;
    private readonly ConcurrentDictionary<string, TaskTemplate> _parsed = new(StringComparer.Ordinal);

    public ValueTask SaveAsync(TaskTemplate template, CancellationToken cancellationToken)
    {
        var json = TemplateJson.Write(template);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        return new ValueTask(executor.RunAsync("save_template", (template, json, hash, _counters), static async (connection, s, token) =>
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
        }, cancellationToken).AsTask());
    }

    public ValueTask<TaskTemplate?> FindAsync(string ns, string name, string? version, CancellationToken cancellationToken) =>
        executor.RunAsync("find_template", (this, ns, name, version), static async (connection, s, token) =>
        {
            var (self, ns, name, version) = s;
            var rows = await connection.QueryAsync<FoundRow>(
                TemplateSql.Find, new { Namespace = ns, Name = name, Version = version, Cancel = token }).ConfigureAwait(false);
            var found = rows.MaxBy(r => TemplateVersion.Parse(r.Version));
            self._counters.RoundTrip(1);
            if (found is null) return null;
            if (self._parsed.TryGetValue(found.SourceHash, out var cached)) return cached;

            var source = await connection.QuerySingleAsync<string>(TemplateSql.Source, new { found.NamedTaskUuid, Cancel = token }).ConfigureAwait(false);
            self._counters.RoundTrip(1);
            var template = TemplateParser.Parse(source, TemplateParseOptions.Resolved);
            if (self._parsed.Count > 4096) self._parsed.Clear(); // bounded: templates are few; this only guards a leak
            self._parsed[found.SourceHash] = template;
            return (TaskTemplate?)template;
        }, cancellationToken);
}
