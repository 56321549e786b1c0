// SHA-256 digests (OpenSSL EVP), one-shot and incremental, as lowercase hex.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace podcd {

class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;
  ~Sha256() = default;

  void Update(std::string_view bytes);
  // Finishes the digest; the object must not be updated afterwards.
  [[nodiscard]] std::string HexDigest();

 private:
  struct Deleter {
    void operator()(evp_md_ctx_st* ctx) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, Deleter> ctx_;
};

[[nodiscard]] std::string Sha256Hex(std::string_view bytes);
[[nodiscard]] std::string HexEncode(std::string_view bytes);

}  // namespace podcd
