/* tests/fuzz/replay.c - run the fuzz target (import.c) over files, without libFuzzer.
 *
 *   fuzz-replay PATH...
 *
 * Each PATH is an input file or a directory of them (not recursive), run in name
 * order; a gzip-compressed file (the corpus in git: images are mostly zeros) is
 * run as its uncompressed bytes.  A crash, a sanitizer report or a hang (meson's
 * timeout) fails the test; so does an empty corpus, which would test nothing. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#define MAX_FILE (16u << 20) /* the target skips inputs above 4 MiB anyway */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    gzFile f = gzopen(path, "rb"); /* plain files read as they are */
    uint8_t *data = malloc(MAX_FILE);
    int n, size = 0;
    struct timespec t0, t1;

    if (!f || !data) {
        fprintf(stderr, "fuzz-replay: cannot read '%s'\n", path);
        free(data);
        if (f)
            gzclose(f);
        return -1;
    }
    while (size < (int)MAX_FILE && (n = gzread(f, data + size, MAX_FILE - (unsigned)size)) > 0)
        size += n;
    if (n < 0 || gzclose(f) != Z_OK) {
        fprintf(stderr, "fuzz-replay: cannot read '%s'\n", path);
        free(data);
        return -1;
    }
    fprintf(stderr, "fuzz-replay: %s (%d bytes)\n", path, size);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "fuzz-replay: %s done in %.3f s\n", path,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of directory DIR, in name order; returns how many were run or -1 */
static int run_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int ran = 0;

    if (!dh) {
        fprintf(stderr, "fuzz-replay: cannot open '%s'\n", dir);
        return -1;
    }
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **m = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
            if (!m)
                abort();
            names = m;
        }
        if (asprintf(&names[n++], "%s/%s", dir, de->d_name) < 0)
            abort();
    }
    closedir(dh);
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;

        if (ran >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            ran = run_file(names[i]) < 0 ? -1 : ran + 1;
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    int total = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: fuzz-replay PATH...\n");
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int ran;

        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz-replay: cannot find '%s'\n", argv[i]);
            return 1;
        }
        ran = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) < 0 ? -1 : 1;
        if (ran < 0)
            return 1;
        total += ran;
    }
    if (total == 0) {
        fprintf(stderr, "fuzz-replay: no input files\n");
        return 1;
    }
    fprintf(stderr, "fuzz-replay: %d inputs, no crash\n", total);
    return 0;
}
