// Opening an image and unpacking its layers, verifying every blob while it streams.
#include "cgprof/image.hpp"

#include <archive.h>
#include <dirent.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "apply.hpp"
#include "cgprof/error.hpp"
#include "cgprof/units.hpp"
#include "digest.hpp"
#include "layer_stream.hpp"
#include "layers.hpp"
#include "manifest.hpp"
#include "secure_fs.hpp"
#include "source.hpp"
#include "userns.hpp"

namespace cgprof::image {

namespace {

Compression compression_of(const std::string& media_type) {
  if (media_type == "application/vnd.oci.image.layer.v1.tar+gzip") return Compression::kGzip;
  if (media_type == "application/vnd.oci.image.layer.v1.tar+zstd") return Compression::kZstd;
  if (media_type == "application/vnd.oci.image.layer.v1.tar") return Compression::kNone;
  return Compression::kSniff;  // docker-archive: whatever the bytes say
}

// libarchive pulls uncompressed bytes through this callback. Exceptions must not cross its C
// frames, so a failure is parked here and rethrown once libarchive has returned.
struct ReadContext {
  LayerStream* stream;
  std::exception_ptr failure;
};

la_ssize_t read_cb(struct archive* a, void* client, const void** buf) {
  auto* ctx = static_cast<ReadContext*>(client);
  try {
    auto [p, n] = ctx->stream->next();
    *buf = p;
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    ctx->failure = std::current_exception();
    archive_set_error(a, EIO, "layer stream failed");
    return -1;
  }
}

double now_s() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void apply_one(const ImageSource& src, const LayerInfo& layer, const std::string& member,
               int rootfd, const UnpackOptions& opts, ApplyNotices& notices,
               const std::string& progress_label) {
  auto file = src.open(member);
  if (!file) throw Error("blob missing from " + src.path() + " (" + member + ")");
  // The manifest's size is checked first: a mismatch is known before a byte is applied.
  if (!layer.digest.empty() && file->size != layer.size)
    throw Error("size " + std::to_string(file->size) + " does not match the manifest's " +
                std::to_string(layer.size));
  const uint64_t blob_size = file->size;
  LayerStream stream(std::move(*file), compression_of(layer.media_type), "");
  const uint64_t limit =
      opts.max_layer_bytes ? opts.max_layer_bytes : default_layer_limit(blob_size);
  const std::string limit_error =
      "expands past " + format_size(limit) + ", the limit on a layer's uncompressed size (" +
      (opts.max_layer_bytes
           ? std::string("--max-layer-size")
           : format_size(kLayerLimitFloor) + " + " + std::to_string(kLayerLimitRatio) + " x its " +
                 format_size(blob_size) + " blob") +
      "); if the image is trusted, raise it with --max-layer-size SIZE or CGPROF_MAX_LAYER_SIZE";
  stream.limit(limit, limit_error);
  double last = 0;
  if (opts.progress) {
    uint64_t total = stream.compressed_read() + layer.size;
    stream.on_progress = [&, total](uint64_t done) {
      double t = now_s();
      if (t - last < 0.1) return;
      last = t;
      std::fprintf(stderr, "\r\033[K%s %s / %s", progress_label.c_str(), format_size(done).c_str(),
                   format_size(total).c_str());
      std::fflush(stderr);
    };
  }
  ReadContext ctx{&stream, nullptr};
  with_utf8_locale([&] {
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_set_read_callback(a, read_cb);
    archive_read_set_callback_data(a, &ctx);
    try {
      if (archive_read_open1(a) != ARCHIVE_OK) {
        if (ctx.failure) std::rethrow_exception(ctx.failure);
        throw Error(std::string("tar: ") +
                    (archive_error_string(a) ? archive_error_string(a) : "open failed"));
      }
      try {
        ApplyOptions ao;
        ao.rootless = opts.rootless;
        ao.set_owners = !opts.rootless || opts.in_userns;
        ao.max_file_bytes = limit;
        ao.limit_error = limit_error;
        apply_layer(a, rootfd, ao, notices);
      } catch (Error& e) {
        if (ctx.failure) std::rethrow_exception(ctx.failure);  // the real cause: corrupt stream
        // A write error (ENOSPC, EIO, EDQUOT) or the size limit: stop now, read nothing more.
        if (!dynamic_cast<TarError*>(&e)) throw;
        // A damaged tar is most often a corrupt blob: say so when the digest proves it.
        stream.drain();  // a stream error found here (truncation) is the better message
        if (!layer.digest.empty() && stream.blob_digest() != layer.digest)
          throw Error("content digest is " + stream.blob_digest() + " (corrupt or tampered blob)");
        throw;
      }
    } catch (...) {
      archive_read_free(a);
      throw;
    }
    archive_read_free(a);
  });
  stream.drain();
  if (opts.progress) std::fprintf(stderr, "\r\033[K");
  if (!layer.digest.empty() && stream.blob_digest() != layer.digest)
    throw Error("content digest is " + stream.blob_digest() + " (corrupt or tampered blob)");
  if (stream.diff_id() != layer.diff_id)
    throw Error("uncompressed digest " + stream.diff_id() +
                " does not match the config's diff_id " + layer.diff_id);
}

}  // namespace

Image::Image(const ImageRef& ref, const std::optional<Platform>& platform) {
  source_ = open_image_source(ref.path);
  ResolvedImage r = resolve_image(*source_, ref, platform);
  manifest_ = std::move(r.manifest);
  layer_paths_ = std::move(r.layer_paths);
}

Image::~Image() = default;
Image::Image(Image&&) noexcept = default;
Image& Image::operator=(Image&&) noexcept = default;

void Image::apply_layer_at(size_t i, int rootfs_fd, const UnpackOptions& opts,
                           ApplyNotices& notices) const {
  const size_t n = manifest_.layers.size();
  const LayerInfo& l = manifest_.layers[i];
  std::string id = l.digest.empty() ? layer_paths_[i] : l.digest;
  std::string what = "layer " + std::to_string(i + 1) + "/" + std::to_string(n) + " blob " + id;
  std::string label = "unpacking layer " + std::to_string(i + 1) + "/" + std::to_string(n) + " " +
                      short_digest(l.digest.empty() ? l.diff_id : l.digest);
  with_context(what,
               [&] { apply_one(*source_, l, layer_paths_[i], rootfs_fd, opts, notices, label); });
}

uint64_t default_layer_limit(uint64_t blob_size) {
  const uint64_t max = UINT64_MAX;
  if (blob_size > (max - kLayerLimitFloor) / kLayerLimitRatio) return max;
  return kLayerLimitFloor + kLayerLimitRatio * blob_size;
}

void Image::unpack_into(int rootfs_fd, const UnpackOptions& opts) const {
  ApplyNotices notices;
  for (size_t i = 0; i < manifest_.layers.size(); ++i) apply_layer_at(i, rootfs_fd, opts, notices);
  print_apply_notices(notices, opts);
}

void print_apply_notices(const ApplyNotices& notices, const UnpackOptions& opts) {
  if (notices.devices_skipped)
    std::fprintf(stderr,
                 "cgprof: notice: %llu device node(s) skipped (creating devices needs root)\n",
                 static_cast<unsigned long long>(notices.devices_skipped));
  if (notices.owners_skipped)
    std::fprintf(stderr,
                 "cgprof: notice: rootless unpack: %llu entries owned by %s are owned by you (root "
                 "inside the container)%s\n",
                 static_cast<unsigned long long>(notices.owners_skipped),
                 opts.in_userns ? "ids outside your /etc/subuid range" : "non-root ids",
                 opts.in_userns ? "" : "; an /etc/subuid range for your user keeps their owners");
  if (notices.xattrs_skipped)
    std::fprintf(
        stderr, "cgprof: notice: %llu extended attribute(s) not permitted here (first: %s)\n",
        static_cast<unsigned long long>(notices.xattrs_skipped), notices.first_xattr.c_str());
}

namespace {

constexpr const char* kTmpMark = ".cgprof-tmp-";

// The pid in "NAME.cgprof-tmp-PID-XXXXXX", or 0 for any other name (e.g. an older cgprof's
// "NAME.cgprof-tmp-XXXXXX", which says nothing about its owner and is left alone).
pid_t tmp_owner(const std::string& name) {
  size_t m = name.rfind(kTmpMark);
  if (m == std::string::npos || m == 0) return 0;
  std::string rest = name.substr(m + std::strlen(kTmpMark));
  size_t dash = rest.find('-');
  if (dash == std::string::npos || dash == 0 || dash > 9 || rest.size() - dash - 1 != 6) return 0;
  pid_t pid = 0;
  for (size_t i = 0; i < dash; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return 0;
    pid = pid * 10 + (rest[i] - '0');
  }
  return pid;
}

}  // namespace

void remove_stale_unpack_dirs(const std::string& parent) {
  UniqueFd pfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!pfd) return;  // nothing to clean where we cannot look
  std::vector<std::string> stale;
  {
    DIR* dp = ::fdopendir(::dup(pfd.get()));
    if (!dp) return;
    while (struct dirent* e = ::readdir(dp)) {
      std::string n = e->d_name;
      pid_t pid = tmp_owner(n);
      // The owner's pid first: it closes the window between its mkdtemp and its flock. A pid we
      // may not signal (EPERM) is alive; only ESRCH says that no process has it.
      if (pid <= 0 || (::kill(pid, 0) == 0 || errno != ESRCH)) continue;
      // Then the lock, which a live unpacker holds whatever pid namespace it is in.
      UniqueFd d(::openat(pfd.get(), n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      struct stat st;
      if (!d || ::fstat(d.get(), &st) != 0 || st.st_uid != ::geteuid()) continue;
      if (::flock(d.get(), LOCK_EX | LOCK_NB) != 0) continue;
      stale.push_back(parent + "/" + n);
    }
    ::closedir(dp);
  }
  for (auto& p : stale) {
    try {
      remove_unpacked_tree(p);
    } catch (const Error& e) {
      std::fprintf(stderr, "cgprof: notice: cannot remove %s, left by an interrupted unpack: %s\n",
                   p.c_str(), e.message().c_str());
    }
  }
}

void unpack_to_directory(const Image& image, const std::string& dir, const UnpackOptions& opts) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  struct stat st;
  if (::stat(d.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error("unpack target " + d + ": exists and is not a directory");
    // rename(2) replaces an empty directory atomically; refuse a non-empty one up front.
    UniqueFd fd = open_at(AT_FDCWD, d, O_RDONLY | O_DIRECTORY);
    DIR* dp = ::fdopendir(fd.release());
    if (!dp) throw_errno("opendir", d);
    bool empty = true;
    while (struct dirent* e = ::readdir(dp))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    ::closedir(dp);
    if (!empty)
      throw Error("unpack target " + d + ": directory is not empty (choose a new or empty one)");
  }
  size_t slash = d.rfind('/');
  remove_stale_unpack_dirs(slash == std::string::npos ? "."
                           : slash == 0               ? "/"
                                                      : d.substr(0, slash));
  // NAME.cgprof-tmp-PID-XXXXXX, locked (flock) while we work in it: a later unpack next to it
  // removes it only once both say that we are gone (SIGKILL runs no cleanup).
  std::string tmpl = d + kTmpMark + std::to_string(::getpid()) + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw_errno("mkdtemp", tmpl);
  try {
    UniqueFd root = open_at(AT_FDCWD, tmpl, O_RDONLY | O_DIRECTORY);
    if (::flock(root.get(), LOCK_EX | LOCK_NB) != 0) throw_errno("flock", tmpl);
    unpack_with_owners(image, root.get(), opts);
    // 0700 whatever the image's root says, as umoci makes a bundle: the tree holds the image's
    // setuid files and device nodes, which are no one else's business on this host.
    if (::fchmod(root.get(), 0700) != 0) throw_errno("chmod", tmpl);
    // Directory rename (publishes the whole tree), not an atomic file write.
    if (::rename(tmpl.c_str(), d.c_str()) != 0) throw_errno("rename to", d);
  } catch (...) {
    remove_unpacked_tree(tmpl);
    throw;
  }
}

void unpack_with_owners(const Image& image, int rootfs_fd, const UnpackOptions& opts) {
  auto plan = opts.rootless ? owner_shift_plan() : std::nullopt;
  if (!plan) return image.unpack_into(rootfs_fd, opts);
  UnpackOptions in = opts;
  in.in_userns = true;
  run_in_userns(*plan, [&] { image.unpack_into(rootfs_fd, in); });
}

void remove_unpacked_tree(const std::string& path) {
  if (auto plan = owner_shift_plan())
    return run_in_userns(*plan, [&] { remove_tree_at(AT_FDCWD, path); });
  remove_tree_at(AT_FDCWD, path);
}

}  // namespace cgprof::image
