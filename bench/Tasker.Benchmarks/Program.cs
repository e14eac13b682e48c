using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Tasker.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
