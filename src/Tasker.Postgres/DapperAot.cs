using Dapper;

// Every Dapper call in this assembly is replaced at build time by generated code (interceptors): no reflection or
// ref-emit at run time, so the store works under NativeAOT and trimming.
[module: DapperAot]
