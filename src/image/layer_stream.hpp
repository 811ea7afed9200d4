// A layer blob as a stream of uncompressed tar bytes, hashed on both sides as it flows.
//
// Design: we decompress ourselves (zlib / libzstd) and give libarchive only the tar format, no
// filters. libarchive cannot report the digest of its decompressed output, and the OCI diff_id is
// exactly that, so the decompressor has to be ours anyway; one pass then yields the blob digest
// and size (compressed side) and the diff_id (uncompressed side) with no second read of the blob.
#pragma once

#include <zlib.h>
#include <zstd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "digest.hpp"
#include "source.hpp"

namespace cgprof::image {

enum class Compression { kNone, kGzip, kZstd, kSniff };

class LayerStream {
 public:
  // `what` names the blob in errors ("layer 2/3 blob sha256:..."); empty when the caller adds it.
  LayerStream(BlobFile file, Compression c, std::string what);
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // Next chunk of uncompressed bytes (valid until the next call); empty at the end of the stream.
  // Throws Error on corrupt or truncated input.
  std::pair<const char*, size_t> next();
  // Reads (and hashes) whatever the tar reader left unread, e.g. padding after the end blocks.
  void drain();

  uint64_t compressed_read() const { return in_pos_; }
  uint64_t uncompressed_bytes() const { return out_total_; }
  // Valid after next() returned empty / drain().
  std::string blob_digest();
  std::string diff_id();

  // Past `max_bytes` uncompressed bytes next() throws Error(message) (a decompression bomb stops
  // there). 0: no limit.
  void limit(uint64_t max_bytes, std::string message) {
    max_out_ = max_bytes;
    limit_error_ = std::move(message);
  }

  // Called with compressed bytes read so far, roughly every MiB.
  std::function<void(uint64_t)> on_progress;

 private:
  bool fill_input();
  void count_out(size_t n);
  std::string prefix() const { return what_.empty() ? std::string() : what_ + ": "; }

  BlobFile file_;
  Compression comp_;
  std::string what_;
  uint64_t in_pos_ = 0, out_total_ = 0;
  uint64_t max_out_ = 0;
  std::string limit_error_;
  std::vector<char> in_buf_, out_buf_;
  size_t in_len_ = 0, in_off_ = 0;
  bool eof_ = false, stream_end_ = false;
  Sha256 blob_hash_, diff_hash_;
  std::string blob_digest_, diff_id_;
  z_stream z_{};
  bool z_init_ = false;
  ZSTD_DStream* zs_ = nullptr;
  size_t zstd_last_ = 0;
};

}  // namespace cgprof::image
