using Microsoft.Extensions.Logging;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Logging;

/// <summary>What the engine logs, at which level, and what it never puts in a log record.</summary>
public sealed class EngineLogTests
{
    private const string Secret = "card 4111-1111-1111-1111 declined";

    private readonly ManualClock _clock = new();
    private readonly RecordingLoggers _logs = new(LogLevel.Information);

    private TaskerEngine Engine() => TaskerEngine.InMemory(new TaskerOptions { Time = _clock, Jitter = 0, LoggerFactory = _logs });

    private static async Task<Guid> Linear(TaskerEngine engine)
    {
        var template = await engine.RegisterTemplateAsync(Workflows.Yaml("logged", ("a", []), ("b", ["a"])));
        return (await engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = template.Namespace, Name = template.Name, Context = JsonValues.Parse($"{{\"note\": \"{Secret}\"}}", "context"),
        })).Task.TaskUuid;
    }

    [Fact]
    public async Task A_step_that_fails_for_good_is_a_warning_naming_the_step_and_error_type_but_not_the_message()
    {
        await using var engine = Engine();
        var task = await Linear(engine);
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        await engine.FailStepAsync(task, claim.StepUuid, claim.ClaimToken, new StepFailure(Secret, "PaymentDeclined", Permanent: true));

        var warning = Assert.Single(_logs.Records, r => r.Level == LogLevel.Warning);
        Assert.Equal((EngineLogCategory, 1005), (warning.Category, warning.EventId));
        Assert.Contains("Step a of task " + task, warning.Message);
        Assert.Contains("PaymentDeclined", warning.Message);
        Assert.All(_logs.Records, r => Assert.DoesNotContain("4111", r.Message));
    }

    [Fact]
    public async Task A_finished_task_and_a_scheduled_retry_are_information()
    {
        await using var engine = Engine();
        var task = await Linear(engine);
        await new Runner(engine, _clock).On("b", Behaviour.Retryable(), Behaviour.Return("1")).RunAsync(task);

        Assert.Contains(_logs.Records, r => r.EventId == 1004 && r.Level == LogLevel.Information && r.Message.Contains("retry in 1 s", StringComparison.Ordinal));
        var finished = Assert.Single(_logs.Records, r => r.EventId == 1003);
        Assert.EndsWith("finished: complete", finished.Message);
    }

    [Fact]
    public async Task An_expired_lease_is_a_warning()
    {
        await using var engine = Engine();
        var task = await Linear(engine);
        await engine.ClaimStepsAsync(task, new ClaimOptions(Lease: TimeSpan.FromSeconds(10)));
        _clock.Advance(TimeSpan.FromSeconds(11));
        await engine.ClaimStepsAsync(task);

        var warning = Assert.Single(_logs.Records, r => r.EventId == 1006);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("lost its lease on attempt 1", warning.Message);
    }

    [Fact]
    public async Task Records_below_the_level_are_not_even_built()
    {
        await using var engine = Engine();
        var task = await Linear(engine);
        await engine.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "w1"));

        Assert.DoesNotContain(_logs.Records, r => r.Level < LogLevel.Information);
        Assert.True(_logs.AskedBelowLevel > 0); // the engine asked IsEnabled(Debug) and was told no
    }

    [Fact]
    public async Task A_rejected_change_logs_nothing()
    {
        await using var engine = Engine();
        var task = await Linear(engine);
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        var before = _logs.Records.Count;

        await Assert.ThrowsAsync<TaskerException>(() => engine.FailStepAsync(task, claim.StepUuid, claim.ClaimToken, new StepFailure("late", Permanent: true)).AsTask());

        Assert.Equal(before, _logs.Records.Count);
    }

    [Fact]
    public async Task Without_a_logger_factory_the_engine_logs_nowhere_and_works()
    {
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = _clock });
        var task = await Linear(engine);
        Assert.Equal(RecommendedAction.Complete, (await new Runner(engine, _clock).RunAsync(task)).Action);
    }

    private const string EngineLogCategory = "Tasker.Engine";
}

/// <summary>An <see cref="ILoggerFactory"/> that keeps every record at or above its level.</summary>
internal sealed class RecordingLoggers(LogLevel level) : ILoggerFactory
{
    public sealed record Record(string Category, LogLevel Level, int EventId, string Message);

    private readonly List<Record> _records = [];
    private int _askedBelowLevel;

    public IReadOnlyList<Record> Records
    {
        get { lock (_records) return _records.ToList(); }
    }

    public int AskedBelowLevel => Volatile.Read(ref _askedBelowLevel);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggers owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel)
        {
            if (logLevel >= owner._level) return true;
            Interlocked.Increment(ref owner._askedBelowLevel);
            return false;
        }

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel < owner._level) return;
            lock (owner._records) owner._records.Add(new Record(category, logLevel, eventId.Id, formatter(state, exception)));
        }
    }

    private readonly LogLevel _level = level;
}
