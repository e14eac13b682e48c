/*
 * Gives back the resident pages of the runtime's compressed start-up data once the runtime has expanded it.
 *
 * NativeAOT stores the library's type data compressed ("dehydrated", about 2.2 MB of read-only data) and expands it
 * into the writable .hydrated section when the runtime starts, on the first call into the library. It reads the
 * compressed form once, front to back, and never again, but those pages would stay in the RSS of every host process
 * that loaded the library. They are clean pages of the file in a private read-only mapping, so dropping them from
 * this process loses nothing: a later read would fault them back in from the page cache.
 *
 * Linked into libtasker on Linux only (Tasker.Native.csproj); Tasker.Native calls it from its module initializer,
 * which NativeAOT runs after the expansion.
 */
#define _DEFAULT_SOURCE /* madvise and MADV_DONTNEED under -std=c11 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * What ILC emits into the library's object, global within the image (hidden, not exported): the compressed data
 * itself, and the module header that lists each of the image's data sections with its start and end
 * (ModuleHeaders.h in the NativeAOT runtime). The data's end is only known from the header; its row is found by
 * its start rather than by its section number, and any mismatch leaves the pages alone.
 */
extern const uint8_t __dehydrated_data[];
extern const uint8_t __ReadyToRunHeader[];

enum { SIGNATURE = 0x00525452 /* "RTR" */, HEADER_SIZE = 16 };

typedef struct
{
    int32_t section;
    int32_t flags;
    const uint8_t *start;
    const uint8_t *end;
} module_section_t;

/* The compressed data's end, or NULL if the header is not the layout this file knows. */
static const uint8_t *dehydrated_data_end(void)
{
    uint32_t signature;
    uint16_t sections;
    uint8_t entry_size;
    __builtin_memcpy(&signature, __ReadyToRunHeader, sizeof signature);
    __builtin_memcpy(&sections, __ReadyToRunHeader + 12, sizeof sections);
    entry_size = __ReadyToRunHeader[14];
    if (signature != SIGNATURE || entry_size != sizeof(module_section_t))
        return NULL;
    for (uint16_t i = 0; i < sections; i++)
    {
        module_section_t row;
        __builtin_memcpy(&row, __ReadyToRunHeader + HEADER_SIZE + (size_t)i * entry_size, sizeof row);
        if (row.start == __dehydrated_data && row.end > row.start)
            return row.end;
    }
    return NULL;
}

/* Bytes given back to the kernel (whole pages inside the compressed data), or 0 if none were. */
size_t tasker_release_startup_data(void)
{
    const uint8_t *end = dehydrated_data_end();
    long page = sysconf(_SC_PAGESIZE);
    if (end == NULL || page <= 0)
        return 0;
    uintptr_t first = ((uintptr_t)__dehydrated_data + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t last = (uintptr_t)end & ~((uintptr_t)page - 1);
    if (last <= first || madvise((void *)first, last - first, MADV_DONTNEED) != 0)
        return 0;
    return last - first;
}
