#include "digest.hpp"

#include <stdexcept>

#include "cgprof/error.hpp"

namespace cgprof::image {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
    throw Error("sha256: cannot initialise libcrypto digest");
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256::update(const void* data, size_t len) {
  if (len) EVP_DigestUpdate(ctx_, data, len);
}

std::string Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, md, &n);
  static const char hex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string sha256_digest(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.finish();
}

bool is_sha256_digest(std::string_view d) {
  if (d.size() != 7 + 64 || d.substr(0, 7) != "sha256:") return false;
  for (char c : d.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

void check_digest(std::string_view digest, std::string_view what) {
  if (!is_sha256_digest(digest))
    throw Error(std::string(what) + ": invalid digest \"" + std::string(digest) +
                "\" (expected sha256:<64 hex digits>)");
}

std::string short_digest(std::string_view d) {
  if (d.substr(0, 7) == "sha256:") d.remove_prefix(7);
  return std::string(d.substr(0, 12));
}

}  // namespace cgprof::image
