using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Tasker.Core;

/// <summary>
/// Cryptographically strong random bytes. On Linux straight from the kernel (<c>getrandom(2)</c>, the source OpenSSL
/// itself seeds from): <see cref="RandomNumberGenerator"/> there is OpenSSL, and loading libcrypto and libssl into a
/// host that never asked for TLS cost every process about 2–3.7 MB of RSS (docs/performance.md, "Footprint").
/// Elsewhere, and if the kernel refuses (a seccomp filter, a kernel older than 3.17), <see cref="RandomNumberGenerator"/>.
/// </summary>
internal static partial class KernelRandom
{
    private const int Eintr = 4;
    private static bool s_unavailable = !OperatingSystem.IsLinux();

    public static void Fill(Span<byte> destination)
    {
        var filled = s_unavailable ? 0 : FillFromKernel(destination);
        if (filled < destination.Length)
            RandomNumberGenerator.Fill(destination[filled..]);
    }

    /// <summary>How many bytes <c>getrandom</c> wrote (all of them, unless it is unavailable).</summary>
    internal static int FillFromKernel(Span<byte> destination)
    {
        var filled = 0;
        try
        {
            while (filled < destination.Length)
            {
                // Above 256 bytes a signal may interrupt the call part way (a short count) or before it (EINTR).
                var n = GetRandom(ref destination[filled], (nuint)(destination.Length - filled), 0);
                if (n > 0)
                    filled += (int)n;
                else if (n < 0 && Marshal.GetLastPInvokeError() == Eintr)
                    continue;
                else
                    break;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A libc without getrandom (glibc before 2.25, some musl builds).
        }
        if (filled < destination.Length) s_unavailable = true;
        return filled;
    }

    [LibraryImport("libc", EntryPoint = "getrandom", SetLastError = true)]
    private static partial nint GetRandom(ref byte buffer, nuint length, uint flags);
}
