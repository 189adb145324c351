#include <jq.h>
#include <jv.h>

// glibc's dladdr, which <dlfcn.h> declares only under _GNU_SOURCE (Swift's Glibc module is built
// without it): names the libjq file this process runs (`JQProgram.libraryIdentity`).
struct mirrorctl_dl_info {
    const char *dli_fname;
    void *dli_fbase;
    const char *dli_sname;
    void *dli_saddr;
};
int dladdr(const void *address, struct mirrorctl_dl_info *info);
