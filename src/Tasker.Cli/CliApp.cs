using System.CommandLine;
using Tasker.Cli.Commands;
using Tasker.Cli.Output;

namespace Tasker.Cli;

/// <summary>The command tree, and the mapping of parse errors to exit code 2.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args, Terminal terminal, CancellationToken cancellationToken = default)
    {
        var cli = new CliContext(terminal);
        var root = new RootCommand("tasker: inspect and recover Tasker workflows in a PostgreSQL store")
        {
            cli.DatabaseUrl, cli.Schema, cli.Json,
            TasksCommand.Build(cli),
            ShowCommand.Build(cli),
            StaleCommand.Build(cli),
            StoreCommands.Stats(cli),
            StoreCommands.Templates(cli),
            StoreCommands.Migrate(cli),
            StoreCommands.Prune(cli),
            EventsCommand.Build(cli),
            Dashboard.DashboardCommand.Build(cli),
        };
        foreach (var action in ActionCommands.Build(cli)) root.Subcommands.Add(action);

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) cli.Error(error.Message);
            terminal.Err.WriteLine("See 'tasker --help'.");
            return CliContext.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = terminal.Out, Error = terminal.Err }, cancellationToken).ConfigureAwait(false);
    }
}
