using System.Text.Json;

namespace Tasker.Postgres.Bench;

/// <summary>What one worker process reports when it exits (a JSON file the orchestrator and the tests read).</summary>
internal sealed record WorkerReport(
    string WorkerId,
    long StepsExecuted,
    long Claims,
    long StaleClaims,
    long DatabaseErrors,
    DateTimeOffset FirstClaimAt,
    DateTimeOffset LastStepAt,
    long[] ClaimLatencyMicros,
    PostgresStoreStatistics Statistics)
{
    public void Write(string path)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("worker_id", WorkerId);
        w.WriteNumber("steps_executed", StepsExecuted);
        w.WriteNumber("claims", Claims);
        w.WriteNumber("stale_claims", StaleClaims);
        w.WriteNumber("database_errors", DatabaseErrors);
        w.WriteString("first_claim_at", FirstClaimAt);
        w.WriteString("last_step_at", LastStepAt);
        w.WriteStartArray("claim_latency_us");
        foreach (var l in ClaimLatencyMicros) w.WriteNumberValue(l);
        w.WriteEndArray();
        w.WriteStartObject("store");
        w.WriteNumber("statements", Statistics.Statements);
        w.WriteNumber("round_trips", Statistics.RoundTrips);
        w.WriteNumber("updates", Statistics.Updates);
        w.WriteNumber("conflicts", Statistics.Conflicts);
        w.WriteNumber("locked_updates", Statistics.LockedUpdates);
        w.WriteNumber("retries", Statistics.Retries);
        w.WriteNumber("steps_executed", Statistics.StepsExecuted);
        w.WriteNumber("unknown_commits_recovered", Statistics.UnknownCommitsRecovered);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static WorkerReport Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var r = document.RootElement;
        var s = r.GetProperty("store");
        return new WorkerReport(
            r.GetProperty("worker_id").GetString()!,
            r.GetProperty("steps_executed").GetInt64(),
            r.GetProperty("claims").GetInt64(),
            r.GetProperty("stale_claims").GetInt64(),
            r.GetProperty("database_errors").GetInt64(),
            r.GetProperty("first_claim_at").GetDateTimeOffset(),
            r.GetProperty("last_step_at").GetDateTimeOffset(),
            r.GetProperty("claim_latency_us").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            new PostgresStoreStatistics(s.GetProperty("statements").GetInt64(), s.GetProperty("round_trips").GetInt64(),
                s.GetProperty("updates").GetInt64(), s.GetProperty("conflicts").GetInt64(), s.GetProperty("locked_updates").GetInt64(),
                s.GetProperty("retries").GetInt64(), s.GetProperty("steps_executed").GetInt64(),
                s.GetProperty("unknown_commits_recovered").GetInt64()));
    }
}
