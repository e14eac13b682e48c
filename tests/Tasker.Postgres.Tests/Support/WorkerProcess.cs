using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Tasker.Postgres.Tests.Support;

/// <summary>
/// A separate OS process running the bench's worker (<c>dotnet Tasker.Postgres.Bench.dll ...</c>): what a second
/// machine or a second Sidekiq/Celery process would be. Its stdout lines are collected as they come.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly StringBuilder _errors = new();

    private WorkerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_errors) _errors.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static async Task<WorkerProcess> StartAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(TestDatabase.WorkerDll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.ArgumentList.Add("--database-url");
        info.ArgumentList.Add(await TestDatabase.ConnectionStringAsync());
        return new WorkerProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start the worker"));
    }

    public int Id => _process.Id;

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Errors
    {
        get { lock (_errors) return _errors.ToString(); }
    }

    public async Task WaitForLinesAsync(Func<string, bool> match, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_lines.Count(match) < count)
        {
            if (_process.HasExited) throw new InvalidOperationException($"worker exited early ({_process.ExitCode}): {Errors}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"worker printed {_lines.Count(match)} of {count} expected lines");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for a normal exit and insists on exit code 0.</summary>
    public async Task ExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"worker {Id} did not finish within {timeout}: {Errors}");
        }
        if (_process.ExitCode != 0)
            throw new InvalidOperationException($"worker {Id} exited with {_process.ExitCode}: {Errors}");
    }

    /// <summary>SIGKILL: no cleanup, no goodbye — claims, leases and connections are simply abandoned.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillAsync();
        _process.Dispose();
    }
}
