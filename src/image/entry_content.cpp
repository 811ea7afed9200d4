#include "entry_content.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "apply.hpp"
#include "cgprof/error.hpp"

namespace cgprof::image {

EntryMeta meta_of(struct archive_entry* e) {
  EntryMeta m;
  m.uid = static_cast<uid_t>(archive_entry_uid(e));
  m.gid = static_cast<gid_t>(archive_entry_gid(e));
  m.perm = archive_entry_perm(e) & 07777;
  m.times[1].tv_sec = archive_entry_mtime(e);
  m.times[1].tv_nsec = archive_entry_mtime_nsec(e);
  if (archive_entry_atime_is_set(e)) {
    m.times[0].tv_sec = archive_entry_atime(e);
    m.times[0].tv_nsec = archive_entry_atime_nsec(e);
  } else {
    m.times[0] = m.times[1];
  }
  if (archive_entry_xattr_reset(e) > 0) {
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
      m.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  return m;
}

void for_each_block(struct archive* a, const std::function<void(const char*, size_t, int64_t)>& f) {
  const void* buf;
  size_t len;
  la_int64_t off;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF) return;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      const char* msg = archive_error_string(a);
      throw TarError(std::string("tar: ") + (msg ? msg : "unreadable data"));
    }
    if (len) f(static_cast<const char*>(buf), len, static_cast<int64_t>(off));
  }
}

void pwrite_all(int fd, const char* p, size_t len, int64_t offset) {
  while (len) {
    ssize_t n = ::pwrite(fd, p, len, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("write");
    p += n;
    len -= static_cast<size_t>(n);
    offset += n;
  }
}

void FileContent::read(struct archive* a, int64_t size, size_t max_bytes) {
  bytes.reserve(std::min(static_cast<size_t>(std::max<int64_t>(size, 0)), max_bytes));
  for_each_block(a, [&](const char* p, size_t len, int64_t off) {
    if (bytes.size() + len > max_bytes)
      throw TarError("tar: more data than the entry's size " + std::to_string(size));
    if (!extents.empty() && extents.back().offset + int64_t(extents.back().len) == off)
      extents.back().len += len;
    else
      extents.push_back({off, len});
    bytes.append(p, len);
  });
}

int64_t FileContent::write(int fd) const {
  const char* p = bytes.data();
  int64_t end = 0;
  for (const Extent& x : extents) {
    pwrite_all(fd, p, x.len, x.offset);
    p += x.len;
    end = std::max(end, x.offset + int64_t(x.len));
  }
  return end;
}

}  // namespace cgprof::image
