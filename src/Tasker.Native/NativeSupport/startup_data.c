/*
 * Gives back the resident pages of the runtime's compressed start-up data once the runtime has expanded it.
 *
 * NativeAOT stores the library's type data compressed ("dehydrated", about 2.2 MB of .rodata) and expands it into
 * the writable .hydrated section when the runtime starts, on the first call into the library. It reads the
 * compressed form once, front to back, and never again, but those pages would stay in the RSS of every host process
 * that loaded the library.
 *
 * Why dropping them is safe: ILC writes only relative offsets into this data, so the dynamic loader never relocates
 * (writes) its pages; they are clean pages of the file in a private read-only mapping, which the kernel may drop at
 * any time anyway. MADV_DONTNEED only makes that happen now: a later read would fault them back in from the file.
 * What it saves is each process's RSS; the pages stay in the page cache, shared, until the kernel needs the memory.
 *
 * Linked into libtasker on Linux only (Tasker.Native.csproj); Hosting/StartupData.cs calls it from a module
 * initializer, which NativeAOT runs after the expansion.
 */
#define _DEFAULT_SOURCE /* madvise and MADV_DONTNEED under -std=c11 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * What ILC emits into the library's object, global within the image (hidden, not exported): the compressed data
 * itself, and the module header that lists each of the image's data sections with its start and end
 * (ModuleHeaders.h in the NativeAOT runtime). The data's end is only known from the header; its row is found by its
 * start rather than by its section number, and any mismatch leaves the pages alone. Weak: a build without
 * dehydration (-p:IlcDehydrate=false) has no such data, and then this does nothing.
 */
extern const uint8_t __dehydrated_data[] __attribute__((weak));
extern const uint8_t __ReadyToRunHeader[] __attribute__((weak));

enum {
    READY_TO_RUN_SIGNATURE = 0x00525452, /* "RTR" */
    READY_TO_RUN_HEADER_SIZE = 16,       /* signature, major, minor, flags, section count, entry size, entry type */
    SECTION_COUNT_AT = 12,
    ENTRY_SIZE_AT = 14,
};

typedef struct {
    int32_t section;
    int32_t flags;
    const uint8_t *start;
    const uint8_t *end;
} module_section_t;

/* The compressed data's end, or NULL if there is none or the header is not the layout this file knows. */
static const uint8_t *dehydrated_data_end(void) {
    if (__dehydrated_data == NULL || __ReadyToRunHeader == NULL) return NULL;
    uint32_t signature;
    uint16_t sections;
    memcpy(&signature, __ReadyToRunHeader, sizeof signature);
    memcpy(&sections, __ReadyToRunHeader + SECTION_COUNT_AT, sizeof sections);
    uint8_t entry_size = __ReadyToRunHeader[ENTRY_SIZE_AT];
    if (signature != READY_TO_RUN_SIGNATURE || entry_size != sizeof(module_section_t)) return NULL;
    for (uint16_t i = 0; i < sections; i++) {
        module_section_t row;
        memcpy(&row, __ReadyToRunHeader + READY_TO_RUN_HEADER_SIZE + (size_t)i * entry_size, sizeof row);
        if (row.start == __dehydrated_data && row.end > row.start) return row.end;
    }
    return NULL;
}

/* Drops the whole pages inside the compressed data from this process; the partial pages at its ends stay. */
void native_support_release_startup_data(void) {
    const uint8_t *end = dehydrated_data_end();
    long page = sysconf(_SC_PAGESIZE);
    if (end == NULL || page <= 0) return;
    uintptr_t first = ((uintptr_t)__dehydrated_data + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t last = (uintptr_t)end & ~((uintptr_t)page - 1);
    if (last > first) (void)madvise((void *)first, last - first, MADV_DONTNEED); /* refused (mlock): nothing changes */
}
