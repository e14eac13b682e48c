using System.CommandLine;

namespace Tasker.Cli.Dashboard;

/// <summary><c>tasker dashboard</c>: serves the web dashboard until interrupted.</summary>
internal static class DashboardCommand
{
    public static Command Build(CliContext cli)
    {
        var port = new Option<int>("--port") { Description = "Port to listen on", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 for every interface)", DefaultValueFactory = _ => "127.0.0.1" };
        var token = new Option<string?>("--token") { Description = $"Access token that enables retry/cancel/resolve (default: ${ActionGuard.TokenVariable}; none: read-only)" };
        var command = new Command("dashboard", "Serve the web dashboard (and its JSON API under /api/)") { port, host, token };
        cli.Handle(command, async (parse, cancellationToken) =>
        {
            var number = parse.GetValue(port);
            if (number is < 0 or > 65535) throw new UsageException("--port must be between 0 and 65535");
            var secret = parse.GetValue(token) ?? Environment.GetEnvironmentVariable(ActionGuard.TokenVariable);
            await using var session = await cli.OpenAsync(parse, cancellationToken);
            await using var server = await DashboardServer.StartAsync(session, parse.GetValue(host)!, number, secret, cancellationToken);
            cli.Terminal.Out.WriteLine($"tasker dashboard on {server.Address} ({(string.IsNullOrEmpty(secret) ? "read-only: no access token" : "actions enabled with the access token")}); Ctrl+C to stop");
            await cli.Terminal.Out.FlushAsync(cancellationToken);
            await server.WaitAsync(cancellationToken);
            return CliContext.Ok;
        });
        return command;
    }
}
