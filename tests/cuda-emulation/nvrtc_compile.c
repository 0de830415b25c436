// nvrtc_compile FILE.cu ARCH [OPTION...]: compiles one CUDA C file with NVRTC, as NvrtcModule does on the GPU machine,
// and prints the log (with --ptxas-options=-v: registers, shared memory and spills per kernel). Exit code: NVRTC's status.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void* nvrtcProgram;
int nvrtcCreateProgram(nvrtcProgram*, const char*, const char*, int, const char* const*, const char* const*);
int nvrtcCompileProgram(nvrtcProgram, int, const char* const*);
int nvrtcGetProgramLogSize(nvrtcProgram, size_t*);
int nvrtcGetProgramLog(nvrtcProgram, char*);
int nvrtcGetCUBINSize(nvrtcProgram, size_t*);
int nvrtcDestroyProgram(nvrtcProgram*);

int main(int argc, char** argv)
{
    if (argc < 3) { fprintf(stderr, "usage: nvrtc_compile FILE.cu sm_XY [OPTION...]\n"); return 2; }
    FILE* f = fopen(argv[1], "rb");
    if (!f) { fprintf(stderr, "%s: cannot read\n", argv[1]); return 2; }
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    char* source = calloc(n + 1, 1);
    if (fread(source, 1, n, f) != (size_t)n) { fprintf(stderr, "%s: short read\n", argv[1]); return 2; }
    fclose(f);
    const char* options[32]; int count = 0;
    static char arch[64]; snprintf(arch, sizeof arch, "--gpu-architecture=%s", argv[2]);
    options[count++] = arch; options[count++] = "--std=c++17";
    for (int i = 3; i < argc && count < 32; i++) options[count++] = argv[i];
    nvrtcProgram program;
    if (nvrtcCreateProgram(&program, source, argv[1], 0, NULL, NULL) != 0) { fprintf(stderr, "nvrtcCreateProgram failed\n"); return 2; }
    int status = nvrtcCompileProgram(program, count, options);
    size_t size = 0; nvrtcGetProgramLogSize(program, &size);
    char* log = calloc(size + 1, 1); nvrtcGetProgramLog(program, log);
    printf("%s", log);
    if (status == 0) { nvrtcGetCUBINSize(program, &size); printf("%s %s: cubin of %zu bytes\n", argv[1], argv[2], size); }
    else printf("%s %s: NVRTC status %d\n", argv[1], argv[2], status);
    nvrtcDestroyProgram(&program);
    return status;
}
