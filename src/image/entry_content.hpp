// What a layer's tar entry carries, copied out of libarchive (whose entry and data buffers the next
// header reuses) so that a writer thread can apply it: metadata, and a regular file's content.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <utility>
#include <vector>

struct archive;
struct archive_entry;

namespace cgprof::image {

struct EntryMeta {
  uid_t uid;
  gid_t gid;
  mode_t perm;               // the 07777 bits
  struct timespec times[2];  // atime (the mtime when the tar has none), mtime
  std::vector<std::pair<std::string, std::string>> xattrs;
};

EntryMeta meta_of(struct archive_entry* e);

// Calls f(data, len, offset) for each data block of the entry being read (holes are skipped).
// Throws Error on a damaged stream.
void for_each_block(struct archive* a, const std::function<void(const char*, size_t, int64_t)>& f);

// pwrite() until all is written; throws Error.
void pwrite_all(int fd, const char* p, size_t len, int64_t offset);

// A regular file's content as the tar stores it: data extents, with holes between them.
struct FileContent {
  struct Extent {
    int64_t offset;
    size_t len;
  };
  std::string bytes;  // the extents' data, back to back
  std::vector<Extent> extents;

  // Reads the entry's data (size: the entry's size); throws Error past max_bytes.
  void read(struct archive* a, int64_t size, size_t max_bytes);
  // Writes the extents at their offsets; returns the end of the last one.
  int64_t write(int fd) const;
};

}  // namespace cgprof::image
