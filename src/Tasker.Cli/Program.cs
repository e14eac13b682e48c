using Tasker.Cli;
using Tasker.Cli.Output;

// `tasker`: the operator command. Exit codes: 0 ok, 1 error, 2 usage.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await CliApp.RunAsync(args, Terminal.Console(), cancel.Token);
