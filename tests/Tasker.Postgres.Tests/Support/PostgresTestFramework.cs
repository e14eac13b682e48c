using Tasker.Core.Tests.Engine;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: Xunit.TestFramework("Tasker.Postgres.Tests.Support.PostgresTestFramework", "Tasker.Postgres.Tests")]

namespace Tasker.Postgres.Tests.Support;

/// <summary>
/// Lets the inherited engine specification (<see cref="EngineSpec"/>: plain [Fact]s we cannot annotate) be skipped
/// like the other database tests when no PostgreSQL is available outside CI. With CI set, or with a database, the
/// tests are discovered exactly as xUnit would (and fail loudly without a database in CI).
/// </summary>
public sealed class PostgresTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkDiscoverer CreateDiscoverer(IAssemblyInfo assemblyInfo) =>
        new Discoverer(assemblyInfo, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Discoverer(IAssemblyInfo assembly, ISourceInformationProvider sourceInfo, IMessageSink sink)
        : XunitTestFrameworkDiscoverer(assembly, sourceInfo, sink)
    {
        protected override bool FindTestsForMethod(ITestMethod testMethod, bool includeSourceInformation, IMessageBus messageBus,
            ITestFrameworkDiscoveryOptions discoveryOptions)
        {
            if (TestDatabase.SkipReason is not null && typeof(EngineSpec).IsAssignableFrom(testMethod.TestClass.Class.ToRuntimeType()) &&
                testMethod.Method.GetCustomAttributes(typeof(Xunit.FactAttribute)).Any())
            {
                var skipped = new SkippedTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
                    discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
                return ReportDiscoveredTestCase(skipped, includeSourceInformation, messageBus);
            }
            return base.FindTestsForMethod(testMethod, includeSourceInformation, messageBus, discoveryOptions);
        }
    }
}

/// <summary>A test case reported as skipped, with the reason there is no database (a global, decided per run).</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase() { }

    public SkippedTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method)
        : base(sink, display, options, method) { }

    // Not a field set in our constructor: the base constructor may already ask for the reason.
    protected override string GetSkipReason(IAttributeInfo factAttribute) =>
        TestDatabase.SkipReason ?? base.GetSkipReason(factAttribute);
}
