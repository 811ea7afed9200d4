// Builds small tar archives in memory for tests (libarchive's writer, pax format).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

namespace cgprof::image::testing {

class TarBuilder {
 public:
  // capacity: the largest archive this builder can hold.
  explicit TarBuilder(size_t capacity = 4 << 20) : buf_(capacity, '\0') {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);
    archive_write_open_memory(a_, buf_.data(), buf_.size(), &used_);
  }
  ~TarBuilder() {
    if (a_) archive_write_free(a_);
  }
  TarBuilder& file(const std::string& path, const std::string& data, int mode = 0644, int uid = 0,
                   int gid = 0) {
    return add(path, AE_IFREG, mode, data, "", "", uid, gid);
  }
  TarBuilder& dir(const std::string& path, int mode = 0755) {
    return add(path, AE_IFDIR, mode, "", "", "");
  }
  TarBuilder& symlink(const std::string& path, const std::string& target) {
    return add(path, AE_IFLNK, 0777, "", target, "");
  }
  TarBuilder& hardlink(const std::string& path, const std::string& target) {
    return add(path, AE_IFREG, 0644, "", "", target);
  }
  // An extended attribute of the next entry.
  TarBuilder& xattr(const std::string& name, const std::string& value) {
    xattrs_.emplace_back(name, value);
    return *this;
  }
  TarBuilder& fifo(const std::string& path) { return add(path, AE_IFIFO, 0644, "", "", ""); }
  // The modification time of the next entry (else 1000000000).
  TarBuilder& mtime(time_t t) {
    mtime_ = t;
    return *this;
  }
  std::string finish() {
    archive_write_close(a_);
    archive_write_free(a_);
    a_ = nullptr;
    return std::string(buf_.data(), used_);
  }

 private:
  TarBuilder& add(const std::string& path, unsigned type, int mode, const std::string& data,
                  const std::string& symlink, const std::string& hardlink, int uid = 0,
                  int gid = 0) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, static_cast<mode_t>(mode));
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
    archive_entry_set_mtime(e, mtime_, 0);
    mtime_ = 1000000000;
    if (!symlink.empty()) archive_entry_set_symlink(e, symlink.c_str());
    if (!hardlink.empty()) archive_entry_set_hardlink(e, hardlink.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    for (const auto& [name, value] : xattrs_)
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    xattrs_.clear();
    archive_write_header(a_, e);
    if (!data.empty()) archive_write_data(a_, data.data(), data.size());
    archive_entry_free(e);
    return *this;
  }
  archive* a_;
  std::string buf_;
  std::vector<std::pair<std::string, std::string>> xattrs_;
  size_t used_ = 0;
  time_t mtime_ = 1000000000;
};

}  // namespace cgprof::image::testing
