using System.CommandLine;
using System.Text.Json;
using Tasker.Cli.Diagnosis;
using Tasker.Cli.Output;
using Tasker.Core;
using Tasker.Postgres;

namespace Tasker.Cli;

/// <summary>
/// What every command shares: the global options (database, schema, --json), the terminal, opening a session, and
/// the one place errors become messages and exit codes (0 ok, 1 error, 2 usage). No stack trace and no password
/// ever reaches the operator's screen.
/// </summary>
internal sealed class CliContext(Terminal terminal)
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    public Terminal Terminal { get; } = terminal;

    public Option<string?> DatabaseUrl { get; } = new("--database-url")
    {
        Description = $"PostgreSQL URL or connection string (default: ${Session.UrlVariable})",
        Recursive = true,
    };

    public Option<string?> Schema { get; } = new("--schema") { Description = "PostgreSQL schema of the Tasker tables (default: the search_path)", Recursive = true };

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON instead of tables", Recursive = true };

    public Task<Session> OpenAsync(ParseResult parse, CancellationToken cancellationToken, bool migrate = false) =>
        Session.OpenAsync(parse.GetValue(DatabaseUrl), parse.GetValue(Schema), migrate, cancellationToken);

    public void WriteJson(Action<Utf8JsonWriter> write) => Terminal.Out.WriteLine(JsonOut.Render(write));

    /// <summary>Wraps a command body: known failures become one line on stderr and an exit code.</summary>
    public void Handle(Command command, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, token) =>
        {
            try
            {
                return await body(parse, token).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                Error(e.Message);
                Terminal.Err.WriteLine($"See 'tasker {command.Name} --help'.");
                return Usage;
            }
            catch (TaskerException e)
            {
                Error($"{Code(e.Code)}: {PostgresConnectionString.Mask(e.Message)}");
                return e.Code == TaskerErrorCode.InvalidArgument ? Usage : Failed;
            }
            catch (OperationCanceledException)
            {
                Error("cancelled");
                return Failed;
            }
#pragma warning disable CA1031 // the boundary to the operator: anything unexpected is still one clean line, never a trace
            catch (Exception e)
#pragma warning restore CA1031
            {
                Error($"{e.GetType().Name}: {PostgresConnectionString.Mask(e.Message)}");
                return Failed;
            }
        });

    public void Error(string message) => Terminal.Err.WriteLine(Terminal.Paint("error: ", Sgr.Red) + message);

    public static Guid TaskUuid(string? text) =>
        Guid.TryParse(text, out var uuid) ? uuid : throw new UsageException($"'{text}' is not a task uuid");

    public static TimeSpan Age(string? text, string option) =>
        Durations.TryParse(text, out var span) ? span
            : throw new UsageException($"{option}: '{text}' is not a duration (use e.g. 90s, 15m, 2h, 7d)");

    /// <summary>Who did it, for the audit trail: --actor, else the operating-system user.</summary>
    public static string Actor(string? actor) => string.IsNullOrWhiteSpace(actor) ? Environment.UserName : actor;

    private static string Code(TaskerErrorCode code) => code switch
    {
        TaskerErrorCode.NotFound => "not found",
        TaskerErrorCode.InvalidState => "invalid state",
        TaskerErrorCode.InvalidArgument => "invalid argument",
        TaskerErrorCode.Database => "database",
        TaskerErrorCode.Timeout => "timeout",
        TaskerErrorCode.Conflict => "conflict",
        _ => code.ToString().ToLowerInvariant(),
    };
}
