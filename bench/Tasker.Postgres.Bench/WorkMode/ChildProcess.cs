using System.Diagnostics;
using System.Threading.Channels;

namespace Tasker.Postgres.Bench.WorkMode;

/// <summary>A worker process driven over stdin/stdout lines (READY, GO, START, STOP, REPORT).</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Channel<(long Id, long Ticks)> _starts = Channel.CreateUnbounded<(long, long)>();
    private readonly Task _reader;
    private readonly Task<string> _errors;

    public ChildProcess(string file, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        _errors = _process.StandardError.ReadToEndAsync();
        _reader = Task.Run(async () =>
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("START ", StringComparison.Ordinal))
                {
                    var p = line.Split(' ');
                    _starts.Writer.TryWrite((long.Parse(p[1]), long.Parse(p[2])));
                }
                else
                {
                    _lines.Writer.TryWrite(line);
                }
            }
            _lines.Writer.TryComplete();
        });
    }

    public int Pid => _process.Id;

    /// <summary>Step/job starts announced in latency mode: (context id, monotonic timestamp).</summary>
    public ChannelReader<(long Id, long Ticks)> Starts => _starts.Reader;

    public async Task<string> ExpectAsync(string prefix, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token);
                if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new InvalidOperationException($"worker {_process.Id} did not say {prefix}: {await ErrorsAsync()}");
        }
    }

    private async Task<string> ErrorsAsync()
    {
        if (!_process.HasExited) return "(still running)";
        return await _errors;
    }

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await _process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        }
        await _reader;
        _process.Dispose();
    }
}
