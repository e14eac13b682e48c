namespace Tasker.Postgres.Sql;

/// <summary>Templates: registration (namespace, named task, named steps in one statement) and lookup.</summary>
internal static class TemplateSql
{
    /// <summary>
    /// Upserts the namespace, the template version and its steps. Re-registering the same version replaces its
    /// definition (as the memory store does); tasks already created keep their own copy of the steps.
    /// $1 namespace uuid, $2 namespace, $3 named task uuid, $4 name, $5 version, $6-$9 version parts,
    /// $10 description, $11 source json, $12 source hash, $13-$17 step arrays (uuid, name, index, handler, description).
    /// </summary>
    public const string Save = """
        WITH ns AS (
            INSERT INTO tasker_namespaces (namespace_uuid, name) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
            RETURNING namespace_uuid
        ), nt AS (
            INSERT INTO tasker_named_tasks (named_task_uuid, namespace_uuid, name, version, version_major, version_minor,
                version_patch, version_prerelease, description, source_json, source_hash)
            SELECT $3, ns.namespace_uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM ns
            ON CONFLICT (namespace_uuid, name, version) DO UPDATE
                SET description = EXCLUDED.description, source_json = EXCLUDED.source_json,
                    source_hash = EXCLUDED.source_hash, updated_at = now()
            RETURNING named_task_uuid
        ), gone AS (
            DELETE FROM tasker_named_steps s USING nt
            WHERE s.named_task_uuid = nt.named_task_uuid AND NOT (s.name = ANY ($14::text[]))
        )
        INSERT INTO tasker_named_steps (named_step_uuid, named_task_uuid, name, step_index, handler, description)
        SELECT u.named_step_uuid, nt.named_task_uuid, u.name, u.step_index, u.handler, u.description
        FROM nt, unnest($13::uuid[], $14::text[], $15::integer[], $16::text[], $17::text[])
            AS u(named_step_uuid, name, step_index, handler, description)
        ON CONFLICT (named_task_uuid, name) DO UPDATE
            SET step_index = EXCLUDED.step_index, handler = EXCLUDED.handler, description = EXCLUDED.description
        """;

    /// <summary>
    /// The requested version, or every version of the template: the caller picks the highest in SemVer 2.0 order
    /// (numeric pre-release identifiers compare as numbers, which no SQL collation does). Templates have few versions.
    /// Each row also carries the template's <see cref="Fingerprint"/>, which a create checks instead of looking the
    /// template up again. $1 the version (NULL: every version), $2 the namespace, $3 the name (the parameters of
    /// <see cref="Fingerprint"/>). Rows: named task uuid, source hash, version, fingerprint.
    /// </summary>
    public const string Find = $"""
        SELECT n.named_task_uuid, n.source_hash, n.version, {Fingerprint}
        FROM tasker_named_tasks n
        JOIN tasker_namespaces s ON s.namespace_uuid = n.namespace_uuid
        WHERE s.name = $2 AND n.name = $3 AND ($1::text IS NULL OR n.version = $1::text)
        """;

    /// <summary>
    /// What every registered version of the template $2 (namespace) / $3 (name) is: how many versions there are and the
    /// sum of a 64-bit hash of each version with the hash of its source. Registering a new version or re-registering one
    /// with other content changes it; re-registering the same content does not. A create compares it with the one its
    /// lookup saw (<see cref="TaskSql.Create"/>), so a process may keep templates it looked up and still never create a
    /// task from one that another process has since replaced. A sum needs no order: an aggregate in version order (a sort
    /// and an md5) cost a create about 0.1 ms on a connection idle for 30 ms (docs/performance.md, session 34). Only a
    /// process compares its own fingerprints, so processes on libraries that compute it otherwise can share a database.
    /// </summary>
    public const string Fingerprint = """
        (SELECT count(*)::text || ' ' || coalesce(sum(hashtextextended(f.version || ' ' || f.source_hash, 0)), 0)::text
         FROM tasker_named_tasks f
         JOIN tasker_namespaces fs ON fs.namespace_uuid = f.namespace_uuid
         WHERE fs.name = $2 AND f.name = $3)
        """;

    public const string Source = "SELECT source_json FROM tasker_named_tasks WHERE named_task_uuid = @NamedTaskUuid";
}
