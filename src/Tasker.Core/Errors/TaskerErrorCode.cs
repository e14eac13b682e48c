namespace Tasker.Core;

/// <summary>
/// Error codes shared by the engine and the C ABI (<c>tasker_error_code_t</c> in include/tasker.h).
/// Append-only: the numeric values are part of the ABI and never change meaning.
/// </summary>
public enum TaskerErrorCode
{
    InvalidArgument = 1,
    InvalidHandle = 2,
    InvalidUtf8 = 3,
    InvalidJson = 4,
    NotFound = 5,
    Conflict = 6,
    InvalidDag = 7,
    InvalidState = 8,
    StaleClaim = 9,
    Database = 10,
    Timeout = 11,
    Internal = 12,
    AbiMismatch = 13,
}
