/*
 * What starting the library leaves resident in the host. NativeAOT keeps the library's type data compressed in
 * .rodata (about half of it) and expands it when the runtime starts; the compressed form is read once and must not
 * stay in the host's RSS afterwards (src/Tasker.Native/NativeSupport/startup_data.c).
 * Linux only: it reads the library's ELF section table, /proc/self/maps and /proc/self/pagemap. Its own process, so
 * that the first call below is the one that starts the runtime. Usage: test_startup_memory
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "support.h"

enum { MEGABYTE = 1024 * 1024 };

/* Where libtasker is loaded (its mapping at file offset 0) and from which file; 0 if it is not mapped. */
static int find_library(uintptr_t *base, char *path, size_t path_size) {
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, maps)) {
        unsigned long start, offset;
        const char *file = strchr(line, '/');
        if (file == NULL || strstr(file, "/libtasker.") == NULL) continue;
        if (sscanf(line, "%lx-%*x %*s %lx", &start, &offset) == 2 && offset == 0) {
            *base = (uintptr_t)start;
            snprintf(path, path_size, "%.*s", (int)strcspn(file, "\n"), file);
            found = 1;
        }
    }
    fclose(maps);
    return found;
}

static int read_at(int fd, void *buffer, size_t size, uint64_t offset) {
    return pread(fd, buffer, size, (off_t)offset) == (ssize_t)size;
}

/* The section's address range in the file's terms (relative to the load base); 0 if not found. */
static int find_section(const char *path, const char *wanted, uint64_t *address, uint64_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    int found = 0;
    Elf64_Ehdr header;
    Elf64_Shdr names;
    if (read_at(fd, &header, sizeof header, 0) && header.e_shentsize == sizeof(Elf64_Shdr) &&
        read_at(fd, &names, sizeof names, header.e_shoff + (uint64_t)header.e_shstrndx * sizeof names)) {
        for (int i = 0; i < header.e_shnum && !found; i++) {
            Elf64_Shdr section;
            char name[32] = {0};
            if (!read_at(fd, &section, sizeof section, header.e_shoff + (uint64_t)i * sizeof section) ||
                pread(fd, name, sizeof name - 1, (off_t)(names.sh_offset + section.sh_name)) <= 0)
                break;
            if (strcmp(name, wanted) == 0) {
                *address = section.sh_addr;
                *size = section.sh_size;
                found = 1;
            }
        }
    }
    close(fd);
    return found;
}

/* Bytes of [start, start + size) this process has resident (the pagemap's "present" bit needs no privilege). */
static uint64_t resident_bytes(uintptr_t start, uint64_t size) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0) return UINT64_MAX;
    uint64_t resident = 0;
    for (uintptr_t at = start & ~(uintptr_t)(page - 1); at < start + size; at += (uintptr_t)page) {
        uint64_t entry = 0;
        if (read_at(fd, &entry, sizeof entry, at / (uintptr_t)page * sizeof entry) && (entry >> 63) & 1)
            resident += (uint64_t)page;
    }
    close(fd);
    return resident;
}

static void test_the_compressed_type_data_is_not_kept_resident_after_start(void) {
    uintptr_t base = 0;
    char path[4096];
    uint64_t address = 0, size = 0;
    CHECK(find_library(&base, path, sizeof path)); /* linked, so mapped before main */
    CHECK(find_section(path, ".rodata", &address, &size));
    CHECK(size > MEGABYTE); /* the check reads the right thing: the library's read-only data is megabytes */

    CHECK(tasker_abi_version() == TASKER_ABI_VERSION); /* the first call: the runtime starts and expands the data */

    uint64_t resident = resident_bytes(base + address, size);
    fprintf(stderr, ".rodata: %llu of %llu KB resident after start\n", (unsigned long long)resident / 1024,
            (unsigned long long)size / 1024);
    /* Kept, the compressed half stays resident (54 % of .rodata in session 17's build); given back, 6 %. */
    CHECK(resident < size / 4);
}

int main(void) {
    setenv("OTEL_SDK_DISABLED", "true", 1);
    test_the_compressed_type_data_is_not_kept_resident_after_start();
    if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
