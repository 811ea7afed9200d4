// Where an image's files come from: an OCI layout (or docker-save) directory, or the same laid out
// inside an uncompressed tar (oci-archive, docker-archive). Blobs are read in place with pread:
// an archive is indexed once (headers only), never extracted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cgprof/sys.hpp"

namespace cgprof::image {

// A byte range of an open file: a blob in a layout directory is the whole file, a blob inside an
// archive is the member's data.
struct BlobFile {
  UniqueFd owned;  // set when the range has its own fd
  int fd = -1;
  uint64_t offset = 0;
  uint64_t size = 0;
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // Opens a member by its relative path ("index.json", "blobs/sha256/<hex>"). Names come from
  // untrusted JSON: they are resolved beneath the layout root and never out of it.
  virtual std::optional<BlobFile> open(const std::string& name) const = 0;
  virtual bool is_archive() const = 0;
  const std::string& path() const { return path_; }

  // Whole member into memory, refusing anything larger than max_bytes.
  std::optional<std::string> read_small(const std::string& name, uint64_t max_bytes) const;

 protected:
  std::string path_;
};

// A directory or an uncompressed tar file; throws Error naming the path otherwise.
std::unique_ptr<ImageSource> open_image_source(const std::string& path);

// Index of an uncompressed tar: member name -> data range. Understands ustar, pax (path, size),
// GNU long names; symlink and hardlink members point at their targets (docker save links repeated
// layers). Exposed for tests.
struct TarMember {
  uint64_t offset = 0, size = 0;
  char type = '0';
  std::string link;
};
std::map<std::string, TarMember> index_tar(int fd, const std::string& what);

}  // namespace cgprof::image
