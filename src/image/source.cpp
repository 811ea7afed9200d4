#include "source.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

namespace cgprof::image {

std::optional<std::string> ImageSource::read_small(const std::string& name,
                                                   uint64_t max_bytes) const {
  auto f = open(name);
  if (!f) return std::nullopt;
  // A file of a layout directory (open() found it regular, opened without blocking): the one
  // bounded reader. A member of an archive is a byte range of it, bounded here.
  if (f->owned) return read_regular_fd(std::move(f->owned), path_ + "/" + name, max_bytes);
  if (f->size > max_bytes)
    throw Error(path_ + ": " + name + " is " + std::to_string(f->size) + " bytes, more than the " +
                std::to_string(max_bytes) + " allowed for metadata");
  std::string out(f->size, '\0');
  uint64_t done = 0;
  while (done < f->size) {
    ssize_t n = ::pread(f->fd, out.data() + done, f->size - done, f->offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read", path_ + "/" + name);
    if (n == 0) throw Error(path_ + ": " + name + ": unexpected end of file");
    done += static_cast<uint64_t>(n);
  }
  return out;
}

namespace {

class DirSource final : public ImageSource {
 public:
  explicit DirSource(const std::string& path)
      : dirfd_(open_at(AT_FDCWD, path, O_PATH | O_DIRECTORY)) {
    path_ = path;
  }
  std::optional<BlobFile> open(const std::string& name) const override {
    int fd = openat2_fd(dirfd_.get(), name.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK,
                        RESOLVE_BENEATH);
    if (fd < 0) {
      if (errno == ENOENT) return std::nullopt;
      if (errno == EXDEV) throw Error(path_ + ": " + name + ": path escapes the image directory");
      throw_errno("open", path_ + "/" + name);
    }
    BlobFile b;
    b.owned.reset(fd);
    b.fd = fd;
    struct stat st;
    if (::fstat(fd, &st) != 0) throw_errno("stat", path_ + "/" + name);
    if (!S_ISREG(st.st_mode)) throw Error(path_ + ": " + name + ": not a regular file");
    b.size = static_cast<uint64_t>(st.st_size);
    return b;
  }
  bool is_archive() const override { return false; }

 private:
  UniqueFd dirfd_;
};

class TarSource final : public ImageSource {
 public:
  TarSource(const std::string& path, UniqueFd fd) : fd_(std::move(fd)) {
    path_ = path;
    members_ = index_tar(fd_.get(), path);
  }
  std::optional<BlobFile> open(const std::string& name) const override {
    std::string n = name;
    for (int hops = 0; hops < 16; ++hops) {
      auto it = members_.find(n);
      if (it == members_.end()) return std::nullopt;
      const TarMember& m = it->second;
      if (m.type == '1') {  // hardlink: archive-relative name of the target
        n = m.link;
        continue;
      }
      if (m.type == '2') {  // symlink: relative to the member's directory
        if (!m.link.empty() && m.link[0] == '/')
          throw Error(path_ + ": " + name + ": absolute symlink inside the archive");
        std::string base = n.substr(0, n.rfind('/') == std::string::npos ? 0 : n.rfind('/') + 1);
        n = normalise(base + m.link);
        if (n.empty()) throw Error(path_ + ": " + name + ": symlink escapes the archive");
        continue;
      }
      if (m.type != '0' && m.type != '\0' && m.type != '7')
        throw Error(path_ + ": " + name + ": not a regular file in the archive");
      BlobFile b;
      b.fd = fd_.get();
      b.offset = m.offset;
      b.size = m.size;
      return b;
    }
    throw Error(path_ + ": " + name + ": too many links inside the archive");
  }
  bool is_archive() const override { return true; }

 private:
  // Resolves "." and ".." lexically; returns "" if ".." would leave the archive root.
  static std::string normalise(const std::string& p) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      std::string c = p.substr(i, j - i);
      if (c == "..") {
        if (parts.empty()) return "";
        parts.pop_back();
      } else if (!c.empty() && c != ".") {
        parts.push_back(c);
      }
      i = j + 1;
    }
    std::string out;
    for (auto& c : parts) out += (out.empty() ? "" : "/") + c;
    return out;
  }

  UniqueFd fd_;
  std::map<std::string, TarMember> members_;
};

uint64_t parse_tar_number(const char* f, size_t len, bool* ok) {
  *ok = true;
  if (static_cast<unsigned char>(f[0]) & 0x80) {  // GNU base-256
    uint64_t v = static_cast<unsigned char>(f[0]) & 0x7f;
    for (size_t i = 1; i < len; ++i) {
      if (v >> 56) {
        *ok = false;
        return 0;
      }
      v = (v << 8) | static_cast<unsigned char>(f[i]);
    }
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < len && f[i] == ' ') ++i;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (v >> 60) {
      *ok = false;
      return 0;
    }
    v = v * 8 + static_cast<uint64_t>(f[i] - '0');
  }
  for (; i < len; ++i)
    if (f[i] != ' ' && f[i] != '\0') *ok = false;
  return v;
}

std::string strip_member_name(std::string n) {
  while (n.size() >= 2 && n[0] == '.' && n[1] == '/') n.erase(0, 2);
  while (!n.empty() && n[0] == '/') n.erase(0, 1);
  while (!n.empty() && n.back() == '/') n.pop_back();
  return n;
}

std::string field(const char* p, size_t len) {
  return std::string(p, strnlen(p, len));
}

}  // namespace

std::map<std::string, TarMember> index_tar(int fd, const std::string& what) {
  std::map<std::string, TarMember> out;
  struct stat st;
  if (::fstat(fd, &st) != 0) throw_errno("stat", what);
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  uint64_t pos = 0;
  std::string long_name, long_link, pax_path, pax_link;
  uint64_t pax_size = 0;
  bool have_pax_size = false;
  auto read_at = [&](uint64_t off, uint64_t len) {
    if (off + len > file_size || off + len < off)
      throw Error(what + ": truncated tar archive (member at offset " + std::to_string(off) + ")");
    std::string s(len, '\0');
    uint64_t done = 0;
    while (done < len) {
      ssize_t n = ::pread(fd, s.data() + done, len - done, static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw_errno("read", what);
      done += static_cast<uint64_t>(n);
    }
    return s;
  };
  for (;;) {
    if (pos + 512 > file_size) {
      if (pos == file_size) break;  // missing end-of-archive blocks: tolerated, like tar
      throw Error(what + ": truncated tar archive");
    }
    std::string h = read_at(pos, 512);
    if (h.find_first_not_of('\0') == std::string::npos) break;
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i)
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    bool ok;
    uint64_t want = parse_tar_number(h.data() + 148, 8, &ok);
    if (!ok || want != sum)
      throw Error(what + ": not a tar archive (bad header checksum at offset " +
                  std::to_string(pos) + "); compressed archives must be decompressed first");
    uint64_t size = parse_tar_number(h.data() + 124, 12, &ok);
    if (!ok) throw Error(what + ": bad size field in tar header at offset " + std::to_string(pos));
    char type = h[156];
    if (have_pax_size && type != 'x' && type != 'g') size = pax_size;
    uint64_t data = pos + 512;
    uint64_t next = data + ((size + 511) / 512) * 512;
    if (next < data) throw Error(what + ": bad size in tar header");
    if (type == 'L' || type == 'K') {
      if (size > 1 << 20) throw Error(what + ": GNU long name too long");
      std::string v = read_at(data, size);
      v.resize(strnlen(v.data(), v.size()));
      (type == 'L' ? long_name : long_link) = v;
    } else if (type == 'x') {
      if (size > 1 << 20) throw Error(what + ": pax header too long");
      std::string v = read_at(data, size);
      size_t i = 0;
      while (i < v.size()) {
        size_t sp = v.find(' ', i);
        if (sp == std::string::npos) break;
        uint64_t rec = 0;
        const char* e = parse_u64(v.data() + i, v.data() + sp, &rec);
        if (!e || rec == 0 || i + rec > v.size()) throw Error(what + ": malformed pax header");
        std::string kv = v.substr(sp + 1, i + rec - sp - 2);
        size_t eq = kv.find('=');
        if (eq != std::string::npos) {
          std::string k = kv.substr(0, eq), val = kv.substr(eq + 1);
          if (k == "path")
            pax_path = val;
          else if (k == "linkpath")
            pax_link = val;
          else if (k == "size") {
            uint64_t s = 0;
            if (!parse_u64(val.data(), val.data() + val.size(), &s))
              throw Error(what + ": malformed pax size");
            pax_size = s;
            have_pax_size = true;
          }
        }
        i += rec;
      }
    } else if (type != 'g') {
      std::string name = field(h.data(), 100);
      if (h.compare(257, 5, "ustar") == 0) {
        std::string prefix = field(h.data() + 345, 155);
        if (!prefix.empty()) name = prefix + "/" + name;
      }
      if (!long_name.empty()) name = long_name;
      if (!pax_path.empty()) name = pax_path;
      TarMember m;
      m.offset = data;
      m.size = (type == '0' || type == '\0' || type == '7') ? size : 0;
      m.type = type;
      m.link = field(h.data() + 157, 100);
      if (!long_link.empty()) m.link = long_link;
      if (!pax_link.empty()) m.link = pax_link;
      if (type == '1') m.link = strip_member_name(m.link);
      if (data + m.size > file_size) throw Error(what + ": truncated tar archive (" + name + ")");
      out[strip_member_name(name)] = m;
      long_name.clear(), long_link.clear(), pax_path.clear(), pax_link.clear();
      have_pax_size = false;
    }
    pos = next;
  }
  return out;
}

std::unique_ptr<ImageSource> open_image_source(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw_errno("image", path);
  if (S_ISDIR(st.st_mode)) return std::make_unique<DirSource>(path);
  if (!S_ISREG(st.st_mode)) throw Error("image " + path + ": not a directory or an archive file");
  UniqueFd fd = open_at(AT_FDCWD, path, O_RDONLY);
  unsigned char magic[4] = {};
  ssize_t n = ::pread(fd.get(), magic, sizeof magic, 0);
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    throw Error("image " + path + ": gzip-compressed archive; decompress it first (gunzip -k " +
                path + ") so blobs can be read in place");
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    throw Error("image " + path + ": zstd-compressed archive; decompress it first (zstd -d " +
                path + ")");
  return std::make_unique<TarSource>(path, std::move(fd));
}

}  // namespace cgprof::image
