/*
 * fuzz_main.c - a main() for the fuzz targets without libFuzzer: each
 * file named on the command line is read and given to
 * LLVMFuzzerTestOneInput once, as `./fuzz_X FILE...` does in a libFuzzer
 * build.  `make check` links every target with it (the compiler the
 * build uses, no clang needed), so the targets keep compiling and
 * tests/fuzz-findings.sh runs every regression input of fuzz/regress/
 * through the target that found it (a target aborts on a broken
 * invariant; the sanitizer build adds its checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            status = 2;
            continue;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
            if (len == cap) {
                cap = cap ? 2 * cap : 65536;
                uint8_t *n = realloc(buf, cap);
                if (!n) {
                    fprintf(stderr, "%s: out of memory\n", argv[i]);
                    free(buf);
                    fclose(f);
                    return 2;
                }
                buf = n;
            }
            size_t got = fread(buf + len, 1, cap - len, f);
            if (got == 0)
                break;
            len += got;
        }
        int bad = ferror(f);
        fclose(f);
        if (bad) {
            fprintf(stderr, "%s: read error\n", argv[i]);
            free(buf);
            status = 2;
            continue;
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    return status;
}
