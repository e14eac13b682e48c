using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>Guards the NativeAOT promise that the build alone cannot: no reflection-based Dapper code is reachable.</summary>
public sealed class AotTests
{
    [Fact]
    public void The_store_references_no_member_of_reflection_based_Dapper()
    {
        // Every Dapper call must be intercepted by Dapper.AOT's generated code. A call it cannot intercept, or a helper
        // such as AsList(), references Dapper.SqlMapper, whose static constructor is reflection: it works under JIT,
        // fails the AOT publish (IL2104/IL3053) and would fail at run time under AOT.
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Tasker.Postgres.dll"));
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var offending = md.MemberReferences
            .Select(md.GetMemberReference)
            .Where(m => m.Parent.Kind == HandleKind.TypeReference &&
                        md.GetString(md.GetTypeReference((TypeReferenceHandle)m.Parent).Name) is "SqlMapper" or "DynamicParameters")
            .Select(m => md.GetString(m.Name))
            .ToList();
        Assert.Empty(offending);
    }
}
