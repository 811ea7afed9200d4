/* file-read: read files or whole directory trees with a given block size, optionally with
 * O_DIRECT or after evicting them from the page cache, and report bytes and rate. With
 * --create it first writes the file, so a container can produce its own test data. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wl_common.h"

struct Opts {
  uint64_t block;
  uint64_t limit; /* stop after this many bytes in total; 0 = no limit */
  int direct;
  int evict;
  int quiet;
};

struct Totals {
  uint64_t bytes;
  uint64_t files;
  uint64_t errors;
};

static unsigned char* g_buf;

static int limit_reached(const struct Opts* o, const struct Totals* t) {
  return o->limit && t->bytes >= o->limit;
}

static void read_fd(int fd, const char* path, const struct Opts* o, struct Totals* t) {
  if (o->evict) {
    /* Clean pages only; enough for files we just wrote and fsynced, or files on disk. */
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  for (;;) {
    size_t want = o->block;
    if (o->limit && o->limit - t->bytes < want && !o->direct) want = o->limit - t->bytes;
    ssize_t n = read(fd, g_buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "file-read: %s: read: %s\n", path, strerror(errno));
      t->errors++;
      return;
    }
    if (n == 0) break;
    t->bytes += (uint64_t)n;
    if (limit_reached(o, t)) break;
  }
  t->files++;
}

static void walk(int parent_fd, const char* name, const char* path, const struct Opts* o,
                 struct Totals* t) {
  if (limit_reached(o, t)) return;
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (o->direct ? O_DIRECT : 0);
  struct stat st;
  if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    fprintf(stderr, "file-read: %s: stat: %s\n", path, strerror(errno));
    t->errors++;
    return;
  }
  if (S_ISREG(st.st_mode)) {
    int fd = openat(parent_fd, name, flags);
    if (fd < 0 && errno == EINVAL && o->direct) {
      fprintf(stderr, "file-read: %s: this file system does not support O_DIRECT; drop --direct\n",
              path);
      exit(1);
    }
    if (fd < 0) {
      fprintf(stderr, "file-read: %s: open: %s\n", path, strerror(errno));
      t->errors++;
      return;
    }
    read_fd(fd, path, o, t);
    close(fd);
  } else if (S_ISDIR(st.st_mode)) {
    int dfd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
      fprintf(stderr, "file-read: %s: open: %s\n", path, strerror(errno));
      t->errors++;
      return;
    }
    DIR* d = fdopendir(dfd);
    if (!d) {
      close(dfd);
      t->errors++;
      return;
    }
    struct dirent* e;
    while ((e = readdir(d)) != NULL && !limit_reached(o, t)) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      size_t len = strlen(path) + strlen(e->d_name) + 2;
      char* child = malloc(len);
      if (!child) {
        perror("file-read: malloc");
        exit(1);
      }
      snprintf(child, len, "%s/%s", path, e->d_name);
      walk(dirfd(d), e->d_name, child, o, t);
      free(child);
    }
    closedir(d);
  } /* devices, fifos, sockets and symlinks are skipped on purpose */
}

static int create_file(const char* path, uint64_t size, uint64_t block) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "file-read: --create %s: open: %s\n", path, strerror(errno));
    return -1;
  }
  for (uint64_t i = 0; i < block; i++) g_buf[i] = (unsigned char)(i * 131 + 7);
  for (uint64_t done = 0; done < size;) {
    size_t n = size - done < block ? (size_t)(size - done) : (size_t)block;
    ssize_t w = write(fd, g_buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "file-read: --create %s: write: %s\n", path, strerror(errno));
      close(fd);
      return -1;
    }
    done += (uint64_t)w;
  }
  if (fsync(fd) != 0) {
    fprintf(stderr, "file-read: --create %s: fsync: %s\n", path, strerror(errno));
    close(fd);
    return -1;
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  return 0;
}

static void usage(FILE* out) {
  fprintf(
      out,
      "Usage: file-read [-b BLOCK] [--direct] [--evict] [-l LIMIT] [-c SIZE] [-q] PATH...\n"
      "Read every regular file under each PATH (directories recursively, symlinks not\n"
      "followed) with BLOCK-sized read() calls and report bytes and rate.\n"
      "\n"
      "  -b, --block-size SIZE  bytes per read() (default 128k; multiple of 4k with --direct)\n"
      "  -d, --direct           open with O_DIRECT (bypass the page cache)\n"
      "  -e, --evict            drop each file's clean pages from the page cache first\n"
      "  -l, --limit SIZE       stop after SIZE bytes in total\n"
      "  -c, --create SIZE      first write SIZE bytes to PATH (one file), fsync and evict it\n"
      "  -q, --quiet            print only the final line\n"
      "  -h, --help             show this help\n"
      "\n"
      "Output: file-read: files=N bytes=B wall_s=T mib_per_s=R block=BLOCK direct=0|1 errors=E\n"
      "Exit status 1 if any file could not be read.\n");
}

int main(int argc, char** argv) {
  static const struct option opts[] = {{"block-size", required_argument, 0, 'b'},
                                       {"direct", no_argument, 0, 'd'},
                                       {"evict", no_argument, 0, 'e'},
                                       {"limit", required_argument, 0, 'l'},
                                       {"create", required_argument, 0, 'c'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  struct Opts o = {128 * 1024, 0, 0, 0, 0};
  uint64_t create = 0;
  int c;
  while ((c = getopt_long(argc, argv, "b:del:c:qh", opts, NULL)) != -1) {
    switch (c) {
      case 'b':
        if (wl_parse_size(optarg, &o.block) || o.block == 0 || o.block > (1ull << 30))
          wl_die_usage("file-read", "--block-size expects a size up to 1GiB, got", optarg);
        break;
      case 'd':
        o.direct = 1;
        break;
      case 'e':
        o.evict = 1;
        break;
      case 'l':
        if (wl_parse_size(optarg, &o.limit) || o.limit == 0)
          wl_die_usage("file-read", "--limit expects a size like 64m, got", optarg);
        break;
      case 'c':
        if (wl_parse_size(optarg, &create) || create == 0)
          wl_die_usage("file-read", "--create expects a size like 64m, got", optarg);
        break;
      case 'q':
        o.quiet = 1;
        break;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (optind == argc) wl_die_usage("file-read", "missing PATH;", "e.g. file-read /usr");
  if (o.direct && o.block % 4096 != 0)
    wl_die_usage("file-read", "--direct needs a --block-size multiple of 4096, e.g.", "1m");
  if (create && argc - optind != 1)
    wl_die_usage("file-read", "--create takes exactly one PATH;", "e.g. -c 64m /tmp/data");
  if (posix_memalign((void**)&g_buf, 4096, o.block) != 0) {
    fprintf(stderr, "file-read: cannot allocate a %llu-byte buffer\n", (unsigned long long)o.block);
    return 1;
  }
  if (create && create_file(argv[optind], create, o.block) != 0) return 1;

  struct Totals t = {0, 0, 0};
  double t0 = wl_now();
  for (int i = optind; i < argc && !limit_reached(&o, &t); i++)
    walk(AT_FDCWD, argv[i], argv[i], &o, &t);
  double wall = wl_now() - t0;
  printf(
      "file-read: files=%llu bytes=%llu wall_s=%.6f mib_per_s=%.2f block=%llu direct=%d "
      "errors=%llu\n",
      (unsigned long long)t.files, (unsigned long long)t.bytes, wall,
      wall > 0 ? (double)t.bytes / 1048576.0 / wall : 0.0, (unsigned long long)o.block, o.direct,
      (unsigned long long)t.errors);
  free(g_buf);
  return t.errors ? 1 : 0;
}
