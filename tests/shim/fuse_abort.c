/* tests/shim/fuse_abort.c - LD_PRELOAD: a read of /dev/fuse that fails with ENODEV
 * (the mount is gone) fails with ECONNABORTED instead.  That is what the kernel
 * answers when the unmount aborts the connection just as a worker takes a request
 * from the queue (fs/fuse/dev.c, fuse_dev_do_read: !fpq->connected), a race a test
 * cannot time; tests/mount/unmount-aborted.sh makes it happen on every unmount. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

static int is_fuse_dev(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10 &&
           minor(st.st_rdev) == 229;
}

ssize_t read(int fd, void *buf, size_t count)
{
    static ssize_t (*real)(int, void *, size_t);
    ssize_t n;

    if (!real)
        real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    n = real(fd, buf, count);
    if (n < 0 && errno == ENODEV && is_fuse_dev(fd))
        errno = ECONNABORTED;
    return n;
}
