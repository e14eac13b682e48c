using Tasker.Core;

namespace Tasker.Postgres.Bench;

/// <summary>Registers the mixed template and creates the tasks the workers will run.</summary>
internal static class Seeder
{
    /// <summary>
    /// Creates <paramref name="count"/> tasks. Every <paramref name="failEvery"/>-th one (0 = none) carries
    /// <c>"fail": ["transform", "right"]</c> in its context: the worker fails those steps on their first attempt
    /// (retryably), so they run twice.
    /// </summary>
    public static async Task<List<Guid>> SeedAsync(TaskerEngine engine, int count, int failEvery, int lanes = 4, string ns = BenchTemplates.Namespace)
    {
        await engine.RegisterTemplateAsync(BenchTemplates.Mixed(ns));
        var uuids = new Guid[count];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, lanes).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var fails = failEvery > 0 && i % failEvery == 0;
                var context = fails ? $"{{\"index\": {i}, \"fail\": [\"transform\", \"right\"]}}" : $"{{\"index\": {i}}}";
                var created = await engine.CreateTaskAsync(new TaskRequest
                {
                    Namespace = ns,
                    Name = "mixed",
                    Context = JsonValues.Parse(context, "context"),
                    Initiator = "bench",
                });
                uuids[i] = created.Task.TaskUuid;
            }
        }));
        return [.. uuids];
    }
}
