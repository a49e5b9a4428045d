/*
 * bcryptprimitives.dll for Wine 8: ProcessPrng on top of RtlGenRandom.
 *
 * Rust's std (1.78 and later) takes its random bytes, for HashMap seeds
 * among others, from ProcessPrng in bcryptprimitives.dll. Wine 8 has no such
 * DLL, so every Rust program built for Windows fails to start under it.
 * Copied into a Wine prefix's drive_c/windows/system32, this DLL provides
 * the one function, on top of RtlGenRandom (SystemFunction036 of
 * advapi32.dll), which Wine 8 does have.
 *
 * Built by scripts/install-rust-web.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll prng-shim.c -ladvapi32
 */
#include <windows.h>
#include <ntsecapi.h>

/*
 * Microsoft documents ProcessPrng as always returning TRUE. RtlGenRandom
 * takes a 32-bit length, so a larger request is filled in pieces; a failure
 * there is reported as FALSE rather than handing back unfilled bytes.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
