/* burn/xattr.c - extended attributes and ACLs between Linux and AAIP
 *
 * Linux shows ACLs as the xattrs system.posix_acl_access and system.posix_acl_default
 * in a binary form (a 4-byte header with version 2, then 8-byte entries: u16 tag,
 * u16 permissions, u32 id).  libisofs keeps ACLs apart from the other attributes,
 * in the long text form of acl_to_text(3) ("user::rw-\nuser:1000:r--\n...").  This
 * file converts between the two, so that the view deals in Linux xattrs only.
 *
 * What Rock Ridge cannot record exactly travels in private attributes of the isofs
 * namespace, which libisofs keeps and xorriso never restores (reference/libisofs.md
 * pitfall 7), and which are never shown to the user:
 *   isofs.mtns   the nanoseconds of the mtime (decimal); for an mtime outside
 *                1900-01-01 .. 2155-12-31, which the 7-byte times of Rock Ridge cannot
 *                hold, the whole of it: seconds (decimal, signed), '.', nanoseconds
 *                (one attribute: each one more takes room in the directory record,
 *                where libisofs 1.5.4 miscounts continuation areas)
 *   isofs.link   a symlink target that Rock Ridge does not give back as it was (a
 *                trailing '/', an empty, '.' or '..' component)
 *   isofs.copy   a file that refers to the data of another one on the disc, in the
 *                session that made it so (burn/dedup.c); dropped by the next one
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"
#define MTNS "isofs.mtns"
#define LINK "isofs.link"
#define RR_TIME_MIN (-2208988800LL) /* 1900-01-01 00:00:00 UTC */
#define RR_TIME_MAX 5869583999LL    /* 2155-12-31 23:59:59 UTC */

static int ours(const char *name)
{
    return !strcmp(name, MTNS) || !strcmp(name, LINK) || !strcmp(name, "isofs.pad") ||
           !strcmp(name, "isofs.copy");
}

/* Would Rock Ridge (SL components) give back LINK as it is? */
static int link_exact_in_rr(const char *link)
{
    size_t n = strlen(link);

    if (n > 1 && link[n - 1] == '/')
        return 0;
    return !strstr(link, "//") && strcmp(link, ".") && strcmp(link, "..") &&
           strncmp(link, "./", 2) && strncmp(link, "../", 3) && !strstr(link, "/./") &&
           !strstr(link, "/../") && !(n >= 2 && !strcmp(link + n - 2, "/.")) &&
           !(n >= 3 && !strcmp(link + n - 3, "/.."));
}

enum {
    TAG_USER_OBJ = 1,
    TAG_USER = 2,
    TAG_GROUP_OBJ = 4,
    TAG_GROUP = 8,
    TAG_MASK = 0x10,
    TAG_OTHER = 0x20
};

static const struct {
    const char *word;
    int tag, named;
} tags[] = {
    {"user", TAG_USER_OBJ, 0}, {"user", TAG_USER, 1}, {"group", TAG_GROUP_OBJ, 0},
    {"group", TAG_GROUP, 1},   {"mask", TAG_MASK, 0}, {"other", TAG_OTHER, 0},
};

void dfs_xattrs_free(struct dfs_xattr *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(x[i].name);
        free(x[i].value);
    }
    free(x);
}

/* binary ACL -> long text with numeric ids; NULL for a malformed value */
static char *acl_to_text_form(const unsigned char *v, size_t size)
{
    size_t n = size >= 4 ? (size - 4) / 8 : 0, len = 0;
    char *text;

    if (size < 4 || (size - 4) % 8 || v[0] != 2 || v[1] || v[2] || v[3])
        return NULL;
    text = malloc(n * 32 + 1);
    if (!text)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *e = v + 4 + 8 * i;
        unsigned tag = e[0] | e[1] << 8, perm = e[2] | e[3] << 8;
        unsigned id = e[4] | e[5] << 8 | e[6] << 16 | (unsigned)e[7] << 24;
        const char *word = NULL;
        int named = 0;

        for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
            if (tags[t].tag == (int)tag) {
                word = tags[t].word;
                named = tags[t].named;
            }
        if (!word) {
            free(text);
            return NULL;
        }
        if (named && id == 0) {
            /* libisofs 1.5.4 cannot encode the numeric qualifier 0 ("user:0:", "Error
             * with encoding ACL for AAIP"): name it, as the long text form allows */
            struct passwd *pw = tag == TAG_USER ? getpwuid(0) : NULL;
            struct group *gr = tag == TAG_GROUP ? getgrgid(0) : NULL;
            const char *nm = pw ? pw->pw_name : gr ? gr->gr_name : NULL;
            if (!nm || strlen(nm) > 16) {
                free(text);
                return NULL;
            }
            len += (size_t)sprintf(text + len, "%s:%s:", word, nm);
        } else if (named)
            len += (size_t)sprintf(text + len, "%s:%u:", word, id);
        else
            len += (size_t)sprintf(text + len, "%s::", word);
        len += (size_t)sprintf(text + len, "%c%c%c\n", perm & 4 ? 'r' : '-', perm & 2 ? 'w' : '-',
                               perm & 1 ? 'x' : '-');
    }
    text[len] = '\0';
    return text;
}

static int lookup_id(const char *word, const char *q, unsigned *id)
{
    char *end;
    unsigned long n = strtoul(q, &end, 10);

    if (*q && !*end) {
        *id = (unsigned)n;
        return 0;
    }
    if (strcmp(word, "user") == 0) {
        struct passwd *pw = getpwnam(q);
        if (!pw)
            return -EINVAL;
        *id = pw->pw_uid;
    } else {
        struct group *gr = getgrnam(q);
        if (!gr)
            return -EINVAL;
        *id = gr->gr_gid;
    }
    return 0;
}

/* long text (as libisofs gives it) -> binary ACL; returns its size or -errno */
static long text_to_acl(const char *text, unsigned char **out)
{
    size_t cap = 16, n = 0;
    unsigned char *v = malloc(4 + 8 * cap);
    char *copy = strdup(text), *save = NULL;

    if (!v || !copy) {
        free(v);
        free(copy);
        return -ENOMEM;
    }
    v[0] = 2;
    v[1] = v[2] = v[3] = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f1 = line, *f2, *f3, *hash = strchr(line, '#');
        unsigned tag = 0, perm = 0, id = 0xffffffffu;

        if (hash)
            *hash = '\0';
        if (!*line)
            continue;
        f2 = strchr(f1, ':');
        f3 = f2 ? strchr(f2 + 1, ':') : NULL;
        if (!f3)
            goto bad;
        *f2++ = '\0';
        *f3++ = '\0';
        for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
            if (strcmp(tags[t].word, f1) == 0 && tags[t].named == (*f2 != '\0'))
                tag = (unsigned)tags[t].tag;
        if (!tag || (*f2 && lookup_id(f1, f2, &id) < 0))
            goto bad;
        for (const char *p = f3; *p && !strchr(" \t", *p); p++)
            perm |= *p == 'r' ? 4 : *p == 'w' ? 2 : *p == 'x' ? 1 : 0;
        if (n == cap) {
            unsigned char *m = realloc(v, 4 + 8 * (cap *= 2));
            if (!m)
                goto bad;
            v = m;
        }
        {
            unsigned char *e = v + 4 + 8 * n++;
            e[0] = tag & 0xff;
            e[1] = tag >> 8;
            e[2] = perm & 0xff;
            e[3] = 0;
            for (int k = 0; k < 4; k++)
                e[4 + k] = (id >> (8 * k)) & 0xff;
        }
    }
    free(copy);
    *out = v;
    return (long)(4 + 8 * n);
bad:
    free(copy);
    free(v);
    return -EINVAL;
}

/* Only owner, group and other: the ACL says no more than the permission bits,
 * and Linux keeps no such ACL (libisofs hands one out for nodes without any). */
static int acl_is_minimal(const unsigned char *v, size_t size)
{
    for (size_t off = 4; off + 8 <= size; off += 8) {
        unsigned tag = v[off] | v[off + 1] << 8;
        if (tag != TAG_USER_OBJ && tag != TAG_GROUP_OBJ && tag != TAG_OTHER)
            return 0;
    }
    return 1;
}

int dfs_acl_is_minimal(const void *value, size_t size)
{
    return acl_is_minimal(value, size);
}

int dfs_acl_valid(const void *value, size_t size)
{
    char *text = acl_to_text_form(value, size);
    IsoImage *img = NULL;
    IsoDir *dir = NULL;
    int ok = text != NULL;

    /* what the mount accepts, a commit must write: libisofs must take it too */
    if (ok && iso_image_new("check", &img) == 1 &&
        iso_image_add_new_dir(img, iso_image_get_root(img), "d", &dir) >= 0)
        ok = iso_node_set_acl_text((IsoNode *)dir, text, NULL, 1) >= 0;
    if (img)
        iso_image_unref(img);
    free(text);
    return ok;
}

static int push(struct dfs_xattr **x, size_t *n, const char *name, const void *value, size_t size)
{
    struct dfs_xattr *m = realloc(*x, (*n + 1) * sizeof(**x));

    if (!m)
        return -ENOMEM;
    *x = m;
    m[*n].name = strdup(name);
    m[*n].value = malloc(size ? size : 1);
    m[*n].size = size;
    if (!m[*n].name || !m[*n].value) {
        free(m[*n].name);
        free(m[*n].value);
        return -ENOMEM;
    }
    memcpy(m[*n].value, value, size);
    (*n)++;
    return 0;
}

int dfs_node_get_xattrs(IsoNode *node, struct dfs_xattr **out, size_t *n_out,
                        struct timespec *mtime, char **link)
{
    size_t num = 0, *lens = NULL;
    char **names = NULL, **values = NULL, *acc = NULL, *def = NULL;
    int err = 0;

    *out = NULL;
    *n_out = 0;
    *link = NULL;
    if (iso_node_get_attrs(node, &num, &names, &lens, &values, 0) < 0)
        return 0; /* no attributes to speak of */
    for (size_t i = 0; i < num && !err; i++) {
        if (ours(names[i])) {
            char buf[32];
            long long v;

            if (!strcmp(names[i], LINK)) {
                *link = strndup(values[i], lens[i]);
                err = *link ? 0 : -ENOMEM;
                continue;
            }
            if (strcmp(names[i], MTNS) != 0 || lens[i] >= sizeof(buf))
                continue; /* isofs.pad, isofs.copy: nothing to read */
            memcpy(buf, values[i], lens[i]);
            buf[lens[i]] = '\0';
            if (strchr(buf, '.')) { /* seconds.nanoseconds */
                char *dot = strchr(buf, '.');
                long long ns = strtoll(dot + 1, NULL, 10);
                v = strtoll(buf, NULL, 10);
                if (ns >= 0 && ns <= 999999999) {
                    mtime->tv_sec = (time_t)v;
                    mtime->tv_nsec = (long)ns;
                }
                continue;
            }
            v = strtoll(buf, NULL, 10);
            if (v >= 0 && v <= 999999999)
                mtime->tv_nsec = (long)v;
            continue;
        }
        if (strncmp(names[i], "isofs.", 6) == 0 || !names[i][0])
            continue; /* libisofs' own, and the ACL pair */
        err = push(out, n_out, names[i], values[i], lens[i]);
    }
    iso_node_get_attrs(node, &num, &names, &lens, &values, 1 << 15);
    if (!err && iso_node_get_acl_text(node, &acc, &def, 16) == 1) {
        const char *which[2] = {ACL_ACCESS, ACL_DEFAULT};
        char *texts[2] = {acc, def};
        for (int k = 0; k < 2 && !err; k++) {
            unsigned char *bin;
            long size;
            if (!texts[k] || !texts[k][0])
                continue;
            size = text_to_acl(texts[k], &bin);
            if (size < 0)
                continue; /* a name that does not resolve here: left out */
            if (k == 0 && acl_is_minimal(bin, (size_t)size)) {
                free(bin);
                continue;
            }
            err = push(out, n_out, which[k], bin, (size_t)size);
            free(bin);
        }
    }
    iso_node_get_acl_text(node, &acc, &def, 1 << 15);
    if (err) {
        dfs_xattrs_free(*out, *n_out);
        *out = NULL;
        *n_out = 0;
        free(*link);
        *link = NULL;
    }
    return err;
}

int dfs_node_set_xattrs(IsoNode *node, const struct dfs_xattr *x, size_t n,
                        const struct timespec *mtime, const char *link, int always_ns)
{
    size_t num = 0, *olens = NULL;
    char **onames = NULL, **ovalues = NULL;
    char **names = NULL, **values = NULL, *acc = NULL, *def = NULL, ns[16], sec[32];
    size_t *lens = NULL, m = 0;
    int ret = 0;

    /* libisofs' own isofs.* attributes (but our isofs.mtns) are carried over here
     * rather than with iso_node_set_attrs() flag bit4, which leaks in libisofs 1.5.4 */
    if (iso_node_get_attrs(node, &num, &onames, &olens, &ovalues, 0) < 0)
        num = 0;
    names = calloc(n + num + 3, sizeof(*names));
    values = calloc(n + num + 3, sizeof(*values));
    lens = calloc(n + num + 3, sizeof(*lens));
    if (!names || !values || !lens) {
        ret = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < num; i++) {
        if (strncmp(onames[i], "isofs.", 6) != 0 || ours(onames[i]))
            continue;
        names[m] = onames[i];
        values[m] = ovalues[i];
        lens[m++] = olens[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(x[i].name, ACL_ACCESS) == 0) {
            if (!acl_is_minimal((const unsigned char *)x[i].value, x[i].size))
                acc = acl_to_text_form((const unsigned char *)x[i].value, x[i].size);
        } else if (strcmp(x[i].name, ACL_DEFAULT) == 0) {
            def = acl_to_text_form((const unsigned char *)x[i].value, x[i].size);
        } else {
            names[m] = x[i].name;
            values[m] = x[i].value;
            lens[m++] = x[i].size;
        }
    }
    if ((long long)mtime->tv_sec < RR_TIME_MIN || (long long)mtime->tv_sec > RR_TIME_MAX) {
        names[m] = MTNS;
        values[m] = sec;
        lens[m++] = (size_t)snprintf(sec, sizeof(sec), "%lld.%ld", (long long)mtime->tv_sec,
                                     mtime->tv_nsec);
    } else if (mtime->tv_nsec > 0 || always_ns) {
        names[m] = MTNS;
        values[m] = ns;
        lens[m++] = (size_t)snprintf(ns, sizeof(ns), "%ld", mtime->tv_nsec);
    }
    if (link && !link_exact_in_rr(link)) {
        names[m] = LINK;
        values[m] = (char *)link;
        lens[m++] = strlen(link);
    }
    /* libisofs 1.5.4 encodes an empty value that comes last so that the node's
     * attributes can no longer be decoded (its ACL cannot be set, every later
     * commit of it fails): a non-empty one goes last, our mtns if none is */
    for (size_t i = m; i-- > 0;)
        if (lens[i]) {
            char *tn = names[i], *tv = values[i];
            size_t tl = lens[i];
            names[i] = names[m - 1], values[i] = values[m - 1], lens[i] = lens[m - 1];
            names[m - 1] = tn, values[m - 1] = tv, lens[m - 1] = tl;
            break;
        }
    if (m && !lens[m - 1]) {
        names[m] = MTNS;
        values[m] = ns;
        lens[m++] = (size_t)snprintf(ns, sizeof(ns), "%ld", mtime->tv_nsec);
    }
    /* the node's attributes become exactly these (bit3: all namespaces); ACLs next */
    if (iso_node_set_attrs(node, m, names, lens, values, 1 | 8) < 0) {
        ret = -EIO;
        goto out;
    }
    /* bit0: the mode is the view's, set apart */
    if (iso_node_set_acl_text(node, acc, def, 1) < 0)
        ret = -EIO;
out:
    iso_node_get_attrs(node, &num, &onames, &olens, &ovalues, 1 << 15);
    free(acc);
    free(def);
    free(names);
    free(values);
    free(lens);
    return ret;
}
