using System.Reflection;
using Npgsql;
using Testcontainers.PostgreSql;

namespace Tasker.Postgres.Tests.Support;

/// <summary>
/// Where the PostgreSQL tests run, decided once per test run:
/// <list type="number">
/// <item><c>TASKER_TEST_DATABASE_URL</c> (a <c>postgres://</c> URL or a key/value string), as <c>build.sh test</c> and
/// <c>.ci/run</c> provide from a throwaway local cluster;</item>
/// <item>otherwise a Testcontainers PostgreSQL when a Docker engine answers;</item>
/// <item>otherwise nothing: the tests are skipped with a reason on a developer machine, and FAIL when <c>CI</c> is set
/// (a database test must never be skipped silently in CI).</item>
/// </list>
/// Every test gets its own schema (see <see cref="TestSchemas"/>), so runs and tests never see each other's rows.
/// </summary>
public static class TestDatabase
{
    public const string UrlVariable = "TASKER_TEST_DATABASE_URL";

    private static readonly Lazy<Task<string>> Server = new(ResolveAsync);

    /// <summary>True when the tests may be skipped (no database configured, no Docker, not in CI).</summary>
    public static string? SkipReason { get; } = ComputeSkipReason();

    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>The Npgsql connection string of the test server (without a schema).</summary>
    public static Task<string> ConnectionStringAsync() => Server.Value;

    private static string? ComputeSkipReason()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(UrlVariable)) || DockerAvailable() || InCi)
            return null;
        return $"no PostgreSQL: set {UrlVariable} (e.g. postgres://postgres@127.0.0.1:54329/postgres, see scripts/pg-test-cluster.sh) " +
               "or start a Docker engine";
    }

    private static async Task<string> ResolveAsync()
    {
        var configured = Environment.GetEnvironmentVariable(UrlVariable);
        if (!string.IsNullOrWhiteSpace(configured))
            return await CheckAsync(PostgresConnectionString.Normalize(configured), $"{UrlVariable} ({PostgresConnectionString.Mask(configured)})").ConfigureAwait(false);
        if (DockerAvailable())
        {
            var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await container.StartAsync().ConfigureAwait(false);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return container.GetConnectionString();
        }
        throw new InvalidOperationException(
            $"The PostgreSQL tests need a database and none is configured: {UrlVariable} is not set and no Docker engine is available. " +
            $"CI is set, so these tests fail instead of being skipped. Start one with `scripts/pg-test-cluster.sh start` and export {UrlVariable}.");
    }

    private static async Task<string> CheckAsync(string connectionString, string what)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync().ConfigureAwait(false);
            return connectionString;
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"cannot connect to the test database from {what}: {PostgresConnectionString.Mask(e.Message)}", e);
        }
    }

    private static bool DockerAvailable()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST"))) return true;
        return File.Exists("/var/run/docker.sock") || OperatingSystem.IsWindows() && File.Exists(@"\\.\pipe\docker_engine");
    }

    /// <summary>The bench/worker executable (built by the project reference), for the multi-process tests.</summary>
    public static string WorkerDll =>
        Path.GetFullPath(typeof(TestDatabase).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "WorkerDll").Value!);
}
