// SHA-256 (OpenSSL libcrypto) and "sha256:<hex>" digest strings.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace cgprof::image {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  // "sha256:<64 lowercase hex>"; the hasher must not be used afterwards.
  std::string finish();

 private:
  EVP_MD_CTX* ctx_;
};

std::string sha256_digest(std::string_view data);

// True for "sha256:" followed by exactly 64 lowercase hex digits (the only algorithm we accept;
// the hex part becomes a file name, so it must not contain '/' or "..").
bool is_sha256_digest(std::string_view digest);

// Throws Error("<what>: invalid digest \"...\"") unless is_sha256_digest.
void check_digest(std::string_view digest, std::string_view what);

// "sha256:0123456789ab..." -> "0123456789ab" (12 hex digits), for messages.
std::string short_digest(std::string_view digest);

}  // namespace cgprof::image
