#include "layer_stream.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgprof/error.hpp"

namespace cgprof::image {

namespace {
constexpr size_t kInBuf = 1 << 20;
constexpr size_t kOutBuf = 1 << 20;
}  // namespace

LayerStream::LayerStream(BlobFile file, Compression c, std::string what)
    : file_(std::move(file)), comp_(c), what_(std::move(what)), in_buf_(kInBuf), out_buf_(kOutBuf) {
  if (comp_ == Compression::kSniff) {
    unsigned char m[4] = {};
    ssize_t n =
        ::pread(file_.fd, m, file_.size < 4 ? file_.size : 4, static_cast<off_t>(file_.offset));
    if (n < 0) throw_errno("read", what_.empty() ? "layer blob" : what_);
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
      comp_ = Compression::kGzip;
    else if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
      comp_ = Compression::kZstd;
    else
      comp_ = Compression::kNone;
  }
  if (comp_ == Compression::kGzip) {
    // 15 + 32: zlib or gzip header, detected.
    if (inflateInit2(&z_, 15 + 32) != Z_OK) throw Error(prefix() + "cannot initialise zlib");
    z_init_ = true;
  } else if (comp_ == Compression::kZstd) {
    zs_ = ZSTD_createDStream();
    if (!zs_ || ZSTD_isError(ZSTD_initDStream(zs_)))
      throw Error(prefix() + "cannot initialise zstd");
  }
}

LayerStream::~LayerStream() {
  if (z_init_) inflateEnd(&z_);
  if (zs_) ZSTD_freeDStream(zs_);
}

bool LayerStream::fill_input() {
  if (in_off_ < in_len_) return true;
  if (eof_) return false;
  uint64_t left = file_.size - in_pos_;
  if (left == 0) {
    eof_ = true;
    return false;
  }
  size_t want = left < kInBuf ? static_cast<size_t>(left) : kInBuf;
  ssize_t n;
  do {
    n = ::pread(file_.fd, in_buf_.data(), want, static_cast<off_t>(file_.offset + in_pos_));
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("read", what_.empty() ? "layer blob" : what_);
  if (n == 0) throw Error(prefix() + "blob shorter than its size " + std::to_string(file_.size));
  blob_hash_.update(in_buf_.data(), static_cast<size_t>(n));
  uint64_t before = in_pos_;
  in_pos_ += static_cast<uint64_t>(n);
  in_len_ = static_cast<size_t>(n);
  in_off_ = 0;
  if (on_progress && (in_pos_ >> 20) != (before >> 20)) on_progress(in_pos_);
  return true;
}

std::pair<const char*, size_t> LayerStream::next() {
  for (;;) {
    if (comp_ == Compression::kNone) {
      if (!fill_input()) return {nullptr, 0};
      const char* p = in_buf_.data() + in_off_;
      size_t n = in_len_ - in_off_;
      in_off_ = in_len_;
      count_out(n);
      diff_hash_.update(p, n);
      return {p, n};
    }
    bool have = fill_input();
    size_t produced = 0;
    if (comp_ == Compression::kGzip) {
      if (!have) {
        if (!stream_end_) throw Error(prefix() + "truncated gzip stream");
        return {nullptr, 0};
      }
      if (stream_end_) {
        // Concatenated gzip members are one stream (pigz, some registries).
        if (inflateReset(&z_) != Z_OK) throw Error(prefix() + "zlib reset failed");
        stream_end_ = false;
      }
      z_.next_in = reinterpret_cast<Bytef*>(in_buf_.data() + in_off_);
      z_.avail_in = static_cast<uInt>(in_len_ - in_off_);
      z_.next_out = reinterpret_cast<Bytef*>(out_buf_.data());
      z_.avail_out = static_cast<uInt>(out_buf_.size());
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        throw Error(prefix() + "corrupt gzip data: " + (z_.msg ? z_.msg : "inflate failed"));
      if (rc == Z_STREAM_END) stream_end_ = true;
      in_off_ = in_len_ - z_.avail_in;
      produced = out_buf_.size() - z_.avail_out;
    } else {
      if (!have) {
        if (zstd_last_ != 0) throw Error(prefix() + "truncated zstd stream");
        return {nullptr, 0};
      }
      ZSTD_inBuffer in{in_buf_.data() + in_off_, in_len_ - in_off_, 0};
      ZSTD_outBuffer out{out_buf_.data(), out_buf_.size(), 0};
      size_t rc = ZSTD_decompressStream(zs_, &out, &in);
      if (ZSTD_isError(rc)) throw Error(prefix() + "corrupt zstd data: " + ZSTD_getErrorName(rc));
      zstd_last_ = rc;
      in_off_ += in.pos;
      produced = out.pos;
    }
    if (produced) {
      count_out(produced);
      diff_hash_.update(out_buf_.data(), produced);
      return {out_buf_.data(), produced};
    }
  }
}

void LayerStream::count_out(size_t n) {
  out_total_ += n;
  if (max_out_ && out_total_ > max_out_) throw Error(limit_error_);
}

void LayerStream::drain() {
  while (next().second) {
  }
}

std::string LayerStream::blob_digest() {
  if (blob_digest_.empty()) blob_digest_ = blob_hash_.finish();
  return blob_digest_;
}

std::string LayerStream::diff_id() {
  if (diff_id_.empty()) diff_id_ = diff_hash_.finish();
  return diff_id_;
}

}  // namespace cgprof::image
