/* outpath.c - whether an output file (the results database, the phase CSV)
 * can be written, asked before anything runs, and the creation of its
 * folder when it is written (res_out_check, res_out_mkdirs; see res.h).
 *
 * The check touches nothing: it walks from the file up to the first folder
 * that exists and asks the kernel (access(2), so a read-only file system
 * counts too) whether the file or that folder can be written. What it cannot
 * see (a disk that fills up, permissions changed during the sweep) still
 * fails where the file is written.
 */
#include "results/res.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder part of path into a new string ("." when it has none, "/" for
 * a file in the root). */
static char *res_out_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    char *d = xstrdup(path);
    d[slash - path] = '\0';
    return d;
}

int res_out_check(const char *path, int dir_write, struct err *e)
{
    size_t n = strlen(path);
    if (n == 0) return err_set(e, "empty path");
    if (path[n - 1] == '/') return err_set(e, "%s ends in '/': a file name is needed", path);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) return err_set(e, "%s is a directory", path);
    if (exists && access(path, W_OK) != 0)
        return err_set(e, "cannot write %s: %s", path, strerror(errno));
    if (!exists && errno != ENOENT && errno != ENOTDIR)
        return err_set(e, "cannot reach %s: %s", path, strerror(errno));
    if (exists && !dir_write) return 0;
    /* Up to the first folder that exists; `missing` is the one below it
     * that would have to be created. */
    char *dir = res_out_dir(path), *missing = NULL;
    int rc = 0;
    for (;;) {
        if (stat(dir, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                rc = err_set(e, "%s is not a directory", dir);
            else if (access(dir, W_OK | X_OK) != 0 && missing)
                rc = err_set(e, "cannot create directory %s: %s", missing, strerror(errno));
            else if (access(dir, W_OK | X_OK) != 0)
                rc = err_set(e, "cannot write in directory %s: %s", dir, strerror(errno));
            break;
        }
        if (errno != ENOENT && errno != ENOTDIR) {
            rc = err_set(e, "cannot reach directory %s: %s", dir, strerror(errno));
            break;
        }
        char *up = res_out_dir(dir);
        if (!strcmp(up, dir)) { /* "." or "/" itself is gone */
            rc = err_set(e, "cannot reach directory %s: %s", dir, strerror(ENOENT));
            free(up);
            break;
        }
        free(missing);
        missing = dir;
        dir = up;
    }
    free(dir);
    free(missing);
    return rc;
}

int res_out_mkdirs(const char *path, struct err *e)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash) {
        *slash = '\0';
        for (char *p = dir + 1; rc == 0 && p <= slash; p++) {
            if (*p != '/' && *p != '\0') continue;
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) < 0 && errno != EEXIST)
                rc = err_set(e, "%s: cannot create directory %s: %s", path, dir, strerror(errno));
            *p = c;
        }
    }
    free(dir);
    return rc;
}
