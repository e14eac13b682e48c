namespace Tasker.Native.Wire;

/// <summary>
/// An answer that carries claims, and whether its request asked for it lean (<c>"lean": true</c> in a claim request
/// or its <c>claim_next</c>). A caller that already holds the task (a step loop going on with one task) gets each
/// claim's task without its namespace, name and version, and the outcome only once no step is claimed: about half a
/// step's answer was the task's names and an outcome that the next answer replaces (docs/performance.md, "Lean
/// answers").
/// </summary>
internal readonly record struct ClaimAnswer<T>(T Result, bool Lean);
